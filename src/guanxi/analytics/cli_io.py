"""What the analytics commands share: the transactions file options, reading it, writing results.

numpy, pandas and scipy are imported when a command runs, not when `guanxi` builds its parser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from guanxi.analytics.errors import AnalyticsInputError

if TYPE_CHECKING:
    import pandas as pd

    from guanxi.analytics.transactions import Transactions

ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without BOM), then what Chinese Excel saves


def add_transaction_arguments(p: argparse.ArgumentParser, as_of_required: bool) -> None:
    p.add_argument("--transactions", required=True, metavar="FILE.csv", help="CSV file, one row per transaction")
    p.add_argument("--customer-col", required=True, metavar="C", help="column with the customer id")
    p.add_argument("--date-col", required=True, metavar="D", help="column with the transaction date (YYYY-MM-DD)")
    p.add_argument("--amount-col", required=True, metavar="A", help="column with the amount (≥ 0)")
    p.add_argument(
        "--as-of",
        required=as_of_required,
        metavar="YYYY-MM-DD",
        help="end of the period analysed, not after today" + ("" if as_of_required else "; default: the last date"),
    )


def today() -> dt.date:
    """Today in the company's time zone (GUANXI_TIME_ZONE, the app's setting) when it is set, else the machine's.

    The commands run without Django, so they read the variable itself rather than the settings module.
    """
    zone = os.environ.get("GUANXI_TIME_ZONE", "").strip()
    if not zone:
        return dt.date.today()
    try:
        return dt.datetime.now(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        raise AnalyticsInputError(f"GUANXI_TIME_ZONE: {zone!r} is not a time zone (e.g. Asia/Shanghai)")


def read_transactions_csv(args: argparse.Namespace) -> pd.DataFrame:
    """The three columns of the file (ids kept as text so 00123 stays 00123), or AnalyticsInputError."""
    import pandas as pd  # here, not at the top: `guanxi --help` should not wait for pandas

    path = Path(args.transactions)
    if not path.is_file():
        raise AnalyticsInputError(f"{path}: no such file")
    wanted = [args.customer_col, args.date_col, args.amount_col]
    for encoding in ENCODINGS:
        try:
            header = pd.read_csv(path, nrows=0, encoding=encoding).columns
            missing = [c for c in wanted if c not in header]
            if missing:
                raise AnalyticsInputError(
                    f"{path}: no column {', '.join(map(repr, missing))} (columns: {', '.join(map(str, header))})"
                )
            return pd.read_csv(path, usecols=wanted, encoding=encoding, dtype={args.customer_col: str})
        except UnicodeDecodeError:
            continue
        except AnalyticsInputError:
            raise
        except pd.errors.EmptyDataError:
            raise AnalyticsInputError(f"{path}: empty file, a header row is needed")
        except (pd.errors.ParserError, ValueError) as e:
            raise AnalyticsInputError(f"{path}: not a valid CSV file ({str(e).splitlines()[0]})")
    raise AnalyticsInputError(f"{path}: cannot be read as {' or '.join(ENCODINGS)} text")


def read_transactions_file(args: argparse.Namespace, why_several: str) -> Transactions:
    """The file's transactions checked (see transactions.read_transactions; nothing dated after today, rows
    named by their line in the file), or AnalyticsInputError; also when the file has one customer only,
    which no analysis that compares customers can use (`why_several` says why, e.g. what RFM does)."""
    from guanxi.analytics.transactions import read_transactions

    frame = read_transactions_csv(args)
    tx = read_transactions(
        frame, args.customer_col, args.date_col, args.amount_col, args.as_of, today=today(), first_line=2
    )
    if tx.n_customers == 1:
        raise AnalyticsInputError(f"only one customer ({tx.customers[0]}) in the file: {why_several}")
    return tx


def write_table(table: pd.DataFrame, output: str | None, fmt: str) -> None:
    """CSV or JSON records to the output file, or to stdout without one."""
    if fmt == "json":
        text = json.dumps(
            json.loads(table.to_json(orient="records", force_ascii=False, double_precision=10)), ensure_ascii=False
        )
    else:
        text = table.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as e:
        raise AnalyticsInputError(f"cannot write {output}: {e.strerror or e}")
