"""Blocking: which record pairs are worth comparing, in several passes, near-linear in the number of records.

Each pass gives every record a key (records with an empty key sit the pass out) and a sort string.
Records are sorted by (key, sort string) and each is paired with the next `window` records that share
its key: a small block yields all its pairs, a large one (王伟, a busy postcode) only the neighbours in
sort order, so no block can blow up quadratically. A pass with no key is a sorted-neighbourhood pass.
Everything after building the keys is numpy; pairs are held as int64 codes i * n + j (i < j).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from guanxi.quality.compare import Column


@dataclass
class Pass:
    name: str
    key: np.ndarray | None  # object array of strings; "" = not in this pass; None = one block (sorted neighbourhood)
    order: np.ndarray  # object array of strings to sort by inside a block
    window: int


def _join(*parts: np.ndarray) -> np.ndarray:
    """Per-record concatenation of key parts; empty when any part is empty (no key from half a key)."""
    out = np.empty(len(parts[0]), dtype=object)
    out[:] = ["\x1f".join(p) if all(p) else "" for p in zip(*parts, strict=True)]
    return out


def _prefix(strings: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(len(strings), dtype=object)
    out[:] = [s[:n] for s in strings]
    return out


def default_passes(columns: Sequence[Column], window: int = 8, sn_window: int = 6) -> list[Pass]:
    """Passes chosen from the field kinds present (see the module docstring)."""
    n = len(columns[0].codes) if columns else 0
    names = [c for c in columns if c.kind == "name"]
    by_kind: dict[str, list[Column]] = {}
    for c in columns:
        by_kind.setdefault(c.kind, []).append(c)
    empty = np.full(n, "", dtype=object)
    if names:
        name_key = np.empty(n, dtype=object)
        name_key[:] = ["".join(p) for p in zip(*(c.phonetic for c in names), strict=True)]
        initials = np.empty(n, dtype=object)
        initials[:] = ["".join(p) for p in zip(*(c.initials for c in names), strict=True)]
    else:
        name_key, initials = empty, empty
    dates = by_kind.get("date", [])
    postcodes = by_kind.get("postcode", [])
    tiebreak = dates[0].strings if dates else postcodes[0].strings if postcodes else empty

    passes: list[Pass] = []
    # Exact identifiers: a shared phone, email or id number is the strongest hint there is.
    for kind in ("phone", "email", "id"):
        for c in by_kind.get(kind, []):
            passes.append(Pass(f"{c.name}=", c.strings, name_key, window))
    if names:
        # Same pinyin / spelling: catches homophones and differences outside the name.
        passes.append(Pass("name=", name_key, tiebreak, window))
        if len(names) > 1:  # given name and surname typed into each other's field
            any_order = np.empty(n, dtype=object)
            parts = zip(*(c.phonetic for c in names), strict=True)
            any_order[:] = ["".join(sorted(p)) if all(p) else "" for p in parts]
            passes.append(Pass("names in any order", any_order, tiebreak, window))
        for d in dates:
            passes.append(Pass(f"{d.name}+initials", _join(d.strings, initials), name_key, window))
        for p in postcodes:
            passes.append(Pass(f"{p.name}+initials", _join(p.strings, initials), name_key, window))
        for c in by_kind.get("address", [])[:1] + by_kind.get("company", [])[:1]:
            passes.append(Pass(f"{c.name}[:6]+initials", _join(_prefix(c.strings, 6), initials), name_key, window))
        # Sorted neighbourhood on the name and on the name reversed: typos early or late in the name.
        passes.append(Pass("~name", None, name_key, sn_window))
        reverse = np.empty(n, dtype=object)
        reverse[:] = [s[::-1] for s in name_key]
        passes.append(Pass("~name reversed", None, reverse, sn_window))
    for d in dates:
        for p in postcodes:
            passes.append(Pass(f"{d.name}+{p.name}", _join(d.strings, p.strings), name_key, window))
    if not passes:  # no names, no identifiers: neighbours on the first field
        passes.append(Pass(f"~{columns[0].name}", None, columns[0].strings, sn_window))
    return passes


def _codes(strings: np.ndarray) -> np.ndarray:
    """Equal strings → equal codes (in order of first appearance): enough to group records by key."""
    table: dict[str, int] = {}
    return np.fromiter((table.setdefault(v, len(table)) for v in strings), dtype=np.int64, count=len(strings))


def _ranks(strings: np.ndarray) -> np.ndarray:
    """Rank of each string in sorted order (equal strings, equal ranks); sorts the distinct strings only."""
    distinct = sorted(set(strings.tolist()))
    table = dict(zip(distinct, range(len(distinct)), strict=True))
    return np.fromiter((table[v] for v in strings), dtype=np.int64, count=len(strings))


def _sorted_unique(codes: np.ndarray) -> np.ndarray:
    """np.unique by sorting `codes` in place (numpy 2's hash-based unique is ~15× slower on 19M int64)."""
    if len(codes) == 0:
        return codes
    codes.sort()  # in place: the caller hands the array over
    keep = np.empty(len(codes), dtype=bool)
    keep[0] = True
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def pass_pairs(p: Pass, side: np.ndarray | None = None, ranks: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Pair codes i * n + j (i < j) of one pass; with `side` (0/1 per record) only pairs across sides.

    `ranks` caches the sort ranks of order arrays shared by several passes (keyed by the array's id).
    """
    n = len(p.order)
    if p.key is None:
        idx = np.nonzero(p.order != "")[0]
        key = np.zeros(len(idx), dtype=np.int64)
    else:
        idx = np.nonzero(p.key != "")[0]
        key = _codes(p.key[idx])
    if ranks is None:
        ranks = {}
    if id(p.order) not in ranks:
        ranks[id(p.order)] = _ranks(p.order)
    order = np.lexsort((ranks[id(p.order)][idx], key))
    s, k = idx[order], key[order]
    out = []
    for d in range(1, p.window + 1):
        if d >= len(s):
            break
        keep = k[:-d] == k[d:]
        a, b = s[:-d][keep], s[d:][keep]
        if side is not None:
            cross = side[a] != side[b]
            a, b = a[cross], b[cross]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        out.append(lo * n + hi)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def candidate_pairs(passes: Sequence[Pass], side: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(i, j, pairs found per pass) over all passes, each pair once, i < j."""
    if not passes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), {}
    n = len(passes[0].order)
    codes, per_pass = [], {}
    ranks: dict[int, np.ndarray] = {}
    for p in passes:
        c = pass_pairs(p, side, ranks)  # no pair twice within a pass: each is a distinct pair of positions
        per_pass[p.name] = len(c)
        codes.append(c)
    all_codes = np.concatenate(codes)
    codes.clear()
    all_codes = _sorted_unique(all_codes)
    return all_codes // n, all_codes % n, per_pass
