"""Field kinds, per-record preparation and vectorised pair comparison for duplicate detection.

Plain Python + numpy + rapidfuzz, no Django. Each field is prepared once per record into columns
(an exact-match code, a fuzzy-comparison string, extras such as pinyin or date parts); a batch of
candidate pairs (two index arrays) is then compared column-wise in C (rapidfuzz.process.cpdist),
so no Python code runs per pair.
Levels: see kinds.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from guanxi.quality.kinds import DIFFERENT, KINDS, LEVELS, MISSING
from guanxi.quality.normalize import (
    NormalizationError,
    clean_text,
    normalize_email,
    normalize_phone,
    pinyin_keys,
)

_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_WORD = re.compile(r"[^\w]+")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_DIGITS = re.compile(r"\d+")
_COMPANY_SUFFIX = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团|公司|\b(?:co|ltd|inc|llc|limited|corp|corporation|company|gmbh|plc)\b\.?)",
    re.IGNORECASE,
)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from pandas-made dicts
        return True
    return False


def _text(value: object) -> str:
    return "" if _is_missing(value) else clean_text(str(value))


def name_forms(value: object) -> tuple[str, str, str]:
    """(characters, phonetic key, initials) of a name: 王小明 → ("王小明", "wangxiaoming", "wxm").

    Latin names: lower-cased letters, the letters again as the phonetic key, first letters of the words.
    """
    text = _text(value).lower()
    if not text:
        return "", "", ""
    if _HAN.search(text):
        keys = pinyin_keys(text)
        chars = _NOT_WORD.sub("", text)
        return chars, (keys[0] if keys else chars), (keys[1] if len(keys) > 1 else "")
    words = re.findall(r"[^\W\d_]+", text)
    return "".join(words), "".join(words), "".join(w[0] for w in words)


def _normalised(value: object, normalise: Callable[[str], str], fallback: Callable[[str], str]) -> str:
    """The normaliser's form, or the fallback's for a value it rejects (still comparable with the same typing)."""
    text = _text(value)
    if not text:
        return ""
    try:
        return normalise(text)
    except NormalizationError:
        return fallback(text)


def prepare_phone(value: object) -> str:
    return _normalised(value, normalize_phone, lambda t: "".join(c for c in t if c.isdigit()))


def prepare_email(value: object) -> str:
    return _normalised(value, normalize_email, str.lower)


def parse_date(value: object) -> tuple[str, int, int, int]:
    """("YYYYMMDD", y, m, d); y = m = d = 0 when the text is no date we can read (then compared as text).

    Reads 19560409, 1956-04-09, 1956/4/9, 1956年4月9日 and day-first 09/04/1956 (US month-first
    dates then look like a day/month swap, which the comparison tolerates).
    """
    text = _text(value)
    if not text:
        return "", 0, 0, 0
    groups = _DIGITS.findall(text)
    if len(groups) == 1 and len(groups[0]) == 8:
        y, m, d = int(groups[0][:4]), int(groups[0][4:6]), int(groups[0][6:])
    elif len(groups) == 3 and len(groups[0]) == 4:
        y, m, d = (int(g) for g in groups)
    elif len(groups) == 3 and len(groups[2]) == 4:
        d, m, y = (int(g) for g in groups)
    else:
        return "".join(groups) or text.lower(), 0, 0, 0
    return f"{y:04d}{m:02d}{d:02d}", y, m, d


def prepare_address(value: object) -> str:
    return _NOT_WORD.sub(" ", _text(value).lower()).strip()


def prepare_postcode(value: object) -> str:
    return _NOT_ALNUM.sub("", _text(value)).upper()


def prepare_company(value: object) -> str:
    text = _COMPANY_SUFFIX.sub(" ", _text(value).lower())
    return _NOT_WORD.sub(" ", text).strip()


def prepare_text(value: object) -> str:
    return _text(value).lower()


_PREPARE: dict[str, Callable[[object], str]] = {
    "phone": prepare_phone,
    "email": prepare_email,
    "address": prepare_address,
    "postcode": prepare_postcode,
    "id": prepare_postcode,  # same folding: letters and digits only, upper-case
    "company": prepare_company,
    "text": prepare_text,
}


@dataclass
class Column:
    """One field of every record, prepared: codes for exact match (-1 = missing), strings for fuzzy match."""

    name: str
    kind: str
    codes: np.ndarray  # int64, equal codes = equal prepared values
    strings: np.ndarray  # object array of prepared strings
    phonetic: np.ndarray | None = None  # names: pinyin / lower-case letters
    has_han: np.ndarray | None = None  # names: bool, the value has Chinese characters
    initials: np.ndarray | None = None  # names: object array of initials
    ymd: np.ndarray | None = None  # dates: int32 (n, 3)
    local: np.ndarray | None = None  # emails: int64 codes of the part before the @


def _encode(values: Sequence[str]) -> np.ndarray:
    """Equal strings → equal integer codes; "" → -1. A dict does it in one pass, no sort."""
    table: dict[str, int] = {"": -1}
    return np.fromiter((table.setdefault(v, len(table) - 1) for v in values), dtype=np.int64, count=len(values))


def _distinct(raw: Sequence[object], prepare: Callable[[object], object]) -> tuple[list, np.ndarray]:
    """(prepared form of each distinct value, index of each record's value in that list).

    Names, birthdays, companies and cities repeat a lot in a large file: each distinct value is prepared once.
    """
    table: dict[object, int] = {}
    index = np.fromiter((table.setdefault(v, len(table)) for v in raw), dtype=np.int64, count=len(raw))
    return [prepare(v) for v in table], index


def _spread(values: Sequence[object], index: np.ndarray) -> np.ndarray:
    """Object array of values[index[k]] for each record."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out[index]


def prepare_column(name: str, kind: str, raw: Sequence[object]) -> Column:
    """Prepare one field of all records (a Python loop over distinct values, once; pairs are compared in C)."""
    if kind not in LEVELS:
        raise ValueError(f"unknown field kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "name":
        forms, index = _distinct(raw, name_forms)
        chars = [f[0] for f in forms]
        return Column(
            name, kind, _encode(chars)[index], _spread(chars, index),
            phonetic=_spread([f[1] for f in forms], index),
            has_han=np.fromiter((bool(_HAN.search(c)) for c in chars), dtype=bool, count=len(chars))[index],
            initials=_spread([f[2] for f in forms], index),
        )
    if kind == "date":
        parsed, index = _distinct(raw, parse_date)
        strings = [p[0] for p in parsed]
        ymd = np.array([p[1:] for p in parsed], dtype=np.int32).reshape(len(parsed), 3)
        return Column(name, kind, _encode(strings)[index], _spread(strings, index), ymd=ymd[index])
    strings, index = _distinct(raw, _PREPARE[kind])
    column = Column(name, kind, _encode(strings)[index], _spread(strings, index))
    if kind == "email":
        column.local = _encode([s.split("@", 1)[0] for s in strings])[index]
    return column


_BATCH = 250_000  # pairs per rapidfuzz call: it converts every string of a call first, gigabytes at 10M pairs


def _cpdist(strings: np.ndarray, ia: np.ndarray, ib: np.ndarray, scorer: Callable, workers: int) -> np.ndarray:
    """scorer(strings[ia[k]], strings[ib[k]]) for every k, in batches (in C, over `workers` threads)."""
    parts = [process.cpdist(strings[ia[start:start + _BATCH]], strings[ib[start:start + _BATCH]], scorer=scorer,
                            workers=workers) for start in range(0, len(ia), _BATCH)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _grade(sim: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Similarity → level: below cuts[0] different (1), then 2, 3 … for each cut reached."""
    level = np.full(len(sim), DIFFERENT, dtype=np.int8)
    for i, cut in enumerate(cuts):
        level[sim >= cut] = DIFFERENT + 1 + i
    return level


def compare_column(col: Column, ia: np.ndarray, ib: np.ndarray, workers: int = -1) -> np.ndarray:
    """Levels (int8) for the pairs (ia[k], ib[k]): exact by codes, the rest fuzzy, computed only where needed."""
    kind = col.kind
    exact_level = len(LEVELS[kind]) - 1
    ca, cb = col.codes[ia], col.codes[ib]
    levels = np.full(len(ia), DIFFERENT, dtype=np.int8)
    missing = (ca < 0) | (cb < 0)
    levels[missing] = MISSING
    same = (ca == cb) & ~missing
    levels[same] = exact_level
    rest = np.nonzero(~missing & ~same)[0]
    if len(rest) == 0:
        return levels
    ra, rb = ia[rest], ib[rest]
    strings = col.strings
    if kind == "name":
        sim = _cpdist(strings, ra, rb, JaroWinkler.normalized_similarity, workers)
        # Chinese names also in pinyin, so homophones (王小明 / 汪晓明) count as close.
        han = np.nonzero(col.has_han[ra] | col.has_han[rb])[0]
        if len(han):
            psim = _cpdist(col.phonetic, ra[han], rb[han], JaroWinkler.normalized_similarity, workers)
            sim[han] = np.maximum(sim[han], psim)
        levels[rest] = _grade(sim, (0.85, 0.93))
    elif kind in ("address", "company"):
        sim = _cpdist(strings, ra, rb, fuzz.token_sort_ratio, workers) / 100.0
        levels[rest] = _grade(sim, (0.75, 0.9))
    elif kind == "text":
        sim = _cpdist(strings, ra, rb, JaroWinkler.normalized_similarity, workers)
        levels[rest] = _grade(sim, (0.92,))
    elif kind == "email":
        sim = _cpdist(strings, ra, rb, JaroWinkler.normalized_similarity, workers)
        close = (sim >= 0.95) | (col.local[ra] == col.local[rb])
        levels[rest] = np.where(close, DIFFERENT + 1, DIFFERENT)
    elif kind == "date":
        ya, yb = col.ymd[ra], col.ymd[rb]
        swapped = (ya[:, 0] == yb[:, 0]) & (ya[:, 1] == yb[:, 2]) & (ya[:, 2] == yb[:, 1]) & (ya[:, 0] > 0)
        dist = _cpdist(strings, ra, rb, OSA.distance, workers)
        levels[rest] = np.where(swapped | (dist <= 1), DIFFERENT + 1, DIFFERENT)
    else:  # phone, postcode, id: one typo or two swapped neighbours away
        dist = _cpdist(strings, ra, rb, OSA.distance, workers)
        levels[rest] = np.where(dist <= 1, DIFFERENT + 1, DIFFERENT)
    return levels


def prepare_columns(records: Sequence[Mapping[str, object]], fields: Mapping[str, str]) -> list[Column]:
    return [prepare_column(name, kind, [r.get(name) for r in records]) for name, kind in fields.items()]
