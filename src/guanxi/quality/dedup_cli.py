"""`guanxi dedup --input FILE.csv --id-column COL --output pairs.csv`: the dedup engine on a plain file.

No Django and no database: analysts can use it on an export without importing anything.
`guanxi dedup --run [--type contact|account]` scans the database instead and fills the review queue
(Django is set up only then).
Bad input ends with one clear line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from guanxi.quality.kinds import KINDS

ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without BOM), then what Chinese Excel saves


class InputError(Exception):
    """Bad input: the message is for the user."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help="CSV file with a header row")
    p.add_argument("--id-column", help="the column that identifies each row")
    p.add_argument("--output", help="CSV file to write the pairs to, best first")
    p.add_argument("--run", action="store_true",
                   help="scan the database instead of a file; the pairs go to the duplicates review queue")
    p.add_argument("--type", choices=["contact", "account"], default="contact", help="with --run: what to scan")
    p.add_argument(
        "--fields", default=None,
        help=f"columns to compare as col:kind,… (kinds: {', '.join(KINDS)}); default: guessed from the headers",
    )
    p.add_argument("--threshold", type=float, default=None,
                   help="least match probability to report (0–1); default: chosen from the fitted model")
    p.add_argument("--encoding", default=None, help="file encoding; default: UTF-8, else GB18030")
    p.set_defaults(dedup_parser=p)


def read_csv(path: Path, encoding: str | None = None) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    text = None
    for enc in (encoding,) if encoding else ENCODINGS:
        try:
            text = data.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        tried = encoding or " or ".join(ENCODINGS)
        raise InputError(f"{path}: cannot be read as {tried} text; give --encoding")
    if "\x00" in text:
        raise InputError(f"{path}: not a CSV text file")
    try:
        reader = csv.DictReader(text.splitlines(), strict=True)
        rows = [dict(r) for r in reader]
    except csv.Error as e:
        raise InputError(f"{path}: not a valid CSV file ({e})")
    headers = list(reader.fieldnames or [])
    if not headers:
        raise InputError(f"{path}: empty file, a header row is needed")
    return headers, rows


def parse_fields(spec: str, headers: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        column, sep, kind = item.rpartition(":")
        if not sep or not column:
            raise InputError(f"--fields: {item!r} is not column:kind")
        if column not in headers:
            raise InputError(f"--fields: no column {column!r} in the file (columns: {', '.join(headers)})")
        if kind not in KINDS:
            raise InputError(f"--fields: unknown kind {kind!r} for {column!r} (kinds: {', '.join(KINDS)})")
        fields[column] = kind
    if not fields:
        raise InputError("--fields: no column given")
    return fields


def run_database(args: argparse.Namespace) -> int:
    """--run: the same engine over the database's contacts or accounts, stored in the review queue."""
    if args.input or args.output or args.id_column or args.fields:
        raise InputError("--run scans the database; leave out --input, --output, --id-column and --fields")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise InputError("--threshold is a probability between 0 and 1")
    from guanxi.cli import _setup

    _setup()
    from guanxi.quality.jobs import scan

    started = time.perf_counter()

    def report(done: int, message: str | None) -> None:
        print(f"{done:>10,}  {message}" if message else f"{done:>10,} read", file=sys.stderr)

    out = scan(args.type, threshold=args.threshold, report=report)
    threshold = f"{out['threshold']:.3f}" if out["threshold"] is not None else "-"
    print(f"{out['records']} {args.type}s, {out['pairs']} pairs at or above {threshold}, {out['new']} new in the "
          f"review queue ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    from guanxi.quality.dedup import dedup, guess_fields

    if getattr(args, "run", False):
        return run_database(args)
    missing = [f"--{name.replace('_', '-')}" for name in ("input", "id_column", "output") if not getattr(args, name)]
    if missing:
        message = f"the following arguments are required: {', '.join(missing)} (or --run to scan the database)"
        parser = getattr(args, "dedup_parser", None)
        if parser is not None:
            parser.error(message)  # a usage error, exit code 2, as argparse gives for a missing option
        raise InputError(message)
    started = time.perf_counter()
    headers, rows = read_csv(Path(args.input), args.encoding)
    if args.id_column not in headers:
        raise InputError(f"no id column {args.id_column!r} in {args.input} (columns: {', '.join(headers)})")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise InputError("--threshold is a probability between 0 and 1")
    if args.fields:
        fields = parse_fields(args.fields, headers)
    else:
        fields = guess_fields(headers, exclude=[args.id_column])
        if not fields:
            raise InputError("no column with a known kind in the header; give --fields col:kind,…")
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        key = row.get(args.id_column) or ""
        if key in seen:
            raise InputError(f"line {line}: id {key!r} appears twice in column {args.id_column!r}")
        seen.add(key)
    if args.id_column in fields:
        raise InputError(f"the id column {args.id_column!r} cannot also be compared")
    result = dedup(rows, fields, id_field=args.id_column, threshold=args.threshold)
    out = Path(args.output)
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["id_1", "id_2", "score", "weight", *fields])
            writer.writeheader()
            for row in result.rows():
                row["score"] = f"{row['score']:.6f}"
                row["weight"] = f"{row['weight']:.3f}"
                writer.writerow(row)
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror or e}")
    print(
        f"{len(rows)} rows, fields {', '.join(f'{c}:{k}' for c, k in fields.items())}; "
        f"{result.candidates} pairs compared, {len(result)} at or above {result.threshold:.3f} → {out} "
        f"({time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    try:
        return run(args)
    except InputError as e:
        print(f"guanxi dedup: {e}", file=sys.stderr)
        return 2
