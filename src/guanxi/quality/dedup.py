"""Duplicate detection for contacts: blocking, field comparison, Fellegi–Sunter scoring with EM.

Plain Python + numpy (+ rapidfuzz for string distances): never imports Django, so `guanxi dedup` runs it
on a CSV file and tests run it without a database. A record is a mapping of field → string; a field
spec maps each field to compare to its kind (see `compare.KINDS`).

    result = dedup(records, {"姓名": "name", "手机": "phone", "生日": "date"}, id_field="id")
    for row in result.rows():   # best first: id_1, id_2, score (probability), weight, one level per field
        ...

`link(left, right, fields)` finds the pairs across two files instead of inside one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from guanxi.quality.blocking import candidate_pairs, default_passes
from guanxi.quality.compare import Column, compare_column, prepare_column, prepare_columns
from guanxi.quality.fellegi_sunter import Model, best_threshold, estimate, estimate_anchored
from guanxi.quality.kinds import KINDS, LEVELS, default_u

__all__ = ["KINDS", "ScoredPairs", "dedup", "dedup_table", "guess_fields", "guess_kind", "link"]

Record = Mapping[str, object]
_DEFAULT_U_WEIGHT = 50.0  # pseudo-pairs behind the kinds' default u


@dataclass
class ScoredPairs:
    """Pairs at or above the threshold, best first, with why: each field's comparison level."""

    fields: list[str]
    kinds: list[str]
    index_1: np.ndarray  # positions of the records (in `link`, index_2 is a position in the right-hand file)
    index_2: np.ndarray
    id_1: np.ndarray
    id_2: np.ndarray
    probability: np.ndarray
    weight: np.ndarray
    levels: np.ndarray  # pairs × fields, int8: 0 missing, 1 different, …, last = exact
    threshold: float
    model: Model
    candidates: int  # pairs compared
    per_pass: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index_1)

    def level_name(self, pair: int, f: int) -> str:
        return LEVELS[self.kinds[f]][self.levels[pair, f]]

    def rows(self) -> Iterator[dict[str, object]]:
        """One dict a pair: id_1, id_2, score (match probability), weight (log2 likelihood ratio), field levels."""
        names = [LEVELS[k] for k in self.kinds]
        for k in range(len(self)):
            row: dict[str, object] = {
                "id_1": self.id_1[k],
                "id_2": self.id_2[k],
                "score": float(self.probability[k]),
                "weight": float(self.weight[k]),
            }
            for f, name in enumerate(self.fields):
                row[name] = names[f][self.levels[k, f]]
            yield row

    def pair_set(self) -> set[tuple[object, object]]:
        return set(zip(self.id_1.tolist(), self.id_2.tolist(), strict=True))


_COMPARE_BATCH = 2_000_000  # pairs compared at a time: bounds the index and mask arrays of a batch


def _compare_all(columns: Sequence[Column], i: np.ndarray, j: np.ndarray, workers: int) -> np.ndarray:
    levels = np.zeros((len(i), len(columns)), dtype=np.int8)
    for start in range(0, len(i), _COMPARE_BATCH):
        part = slice(start, start + _COMPARE_BATCH)
        for f, col in enumerate(columns):
            levels[part, f] = compare_column(col, i[part], j[part], workers)
    return levels


def _random_u(columns: Sequence[Column], side: np.ndarray | None, sample: int, seed: int, workers: int) -> list:
    """u (level shares among non-matches) from random pairs, which are nearly all non-matches: EM's start.

    Blended with the kinds' default chance agreement, weighted by how many distinct pairs the sample can
    hold, so a small file leans on the defaults and a large one on its own data.
    """
    n = len(columns[0].codes)
    rng = np.random.default_rng(seed)
    if side is None:
        i, j = rng.integers(0, n, sample), rng.integers(0, n, sample)
        keep = i != j
        i, j = i[keep], j[keep]
        distinct = n * (n - 1) // 2
    else:
        left, right = np.nonzero(side == 0)[0], np.nonzero(side == 1)[0]
        i, j = rng.choice(left, sample), rng.choice(right, sample)
        distinct = len(left) * len(right)
    levels = _compare_all(columns, i, j, workers)
    out = []
    for f, col in enumerate(columns):
        k = len(LEVELS[col.kind])
        counts = np.bincount(levels[:, f], minlength=k).astype(np.float64)
        counts[0] = 0.0
        seen = counts.sum()
        if seen:
            counts *= min(seen, distinct) / seen
        counts += _DEFAULT_U_WEIGHT * np.array(default_u(col.kind))
        out.append(counts / counts.sum())
    return out


def _fit(columns: Sequence[Column], levels: np.ndarray, u: list | None, side: np.ndarray | None) -> Model:
    """Anchored EM where the fields allow it (see fellegi_sunter.estimate_anchored), else plain EM."""
    n_levels = [len(LEVELS[c.kind]) for c in columns]
    if u is not None:
        n = len(columns[0].codes)
        total = n * (n - 1) // 2 if side is None else int((side == 0).sum()) * int((side == 1).sum())
        rules = [[f] for f, c in enumerate(columns) if c.kind in ("phone", "email", "id")]
        names = [f for f, c in enumerate(columns) if c.kind == "name"]
        # The name rule only fills in what identifiers leave open: same-name pairs come from passes that
        # also sort by date, so they are less like random pairs than pairs sharing a phone are.
        for extra in ([], [names] if names else []):
            model = estimate_anchored(levels, n_levels, u, rules + extra, total)
            if model is not None:
                return model
    return estimate(levels, n_levels, u_init=u)


def _check(fields: Mapping[str, str], threshold: float | None) -> None:
    if not fields:
        raise ValueError("no fields to compare")
    for name, kind in fields.items():
        if kind not in LEVELS:
            raise ValueError(f"field {name!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError("the threshold is a probability, between 0 and 1")


def _score(
    prepare: Callable[[], list[Column]],
    fields: Mapping[str, str],
    ids: np.ndarray,
    side: np.ndarray | None,
    threshold: float | None,
    window: int,
    sn_window: int,
    workers: int,
    seed: int,
    progress: Callable[[str], None] | None,
) -> ScoredPairs:
    started = time.perf_counter()

    def step(message: str) -> None:
        if progress is not None:
            progress(f"{time.perf_counter() - started:7.1f} s  {message}")

    _check(fields, threshold)
    columns = prepare()
    n = len(ids)
    step(f"prepared {n:,} records")
    passes = default_passes(columns, window=window, sn_window=sn_window)
    i, j, per_pass = candidate_pairs(passes, side)
    del passes
    step(f"blocked: {len(i):,} candidate pairs")
    levels = _compare_all(columns, i, j, workers)
    step("compared")
    u = _random_u(columns, side, min(200_000, max(1000, 20 * n)), seed, workers) if len(i) else None
    model = _fit(columns, levels, u, side)
    step(f"EM: {model.iterations} iterations, prior {model.prior:.3g}")
    weight = model.weights(levels)
    probability = model.probabilities(levels)
    cut = best_threshold(probability) if threshold is None else threshold
    keep = np.nonzero(probability >= cut)[0]
    keep = keep[np.argsort(-weight[keep], kind="stable")]  # best first; weight keeps order where p rounds to 1
    result = ScoredPairs(
        fields=list(fields), kinds=list(fields.values()),
        index_1=i[keep], index_2=j[keep], id_1=ids[i[keep]], id_2=ids[j[keep]],
        probability=probability[keep], weight=weight[keep], levels=levels[keep],
        threshold=cut, model=model, candidates=len(i), per_pass=per_pass,
    )
    step(f"scored: {len(result):,} pairs at or above {cut:.3f}")
    return result


def _ids(records: Sequence[Record], id_field: str | None) -> np.ndarray:
    out = np.empty(len(records), dtype=object)
    out[:] = list(range(len(records))) if id_field is None else [r[id_field] for r in records]
    return out


def dedup(
    records: Sequence[Record],
    fields: Mapping[str, str],
    *,
    id_field: str | None = None,
    threshold: float | None = None,
    window: int = 8,
    sn_window: int = 6,
    workers: int = -1,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ScoredPairs:
    """Likely duplicate pairs inside `records`, best first.

    `fields` maps field → kind; `id_field` names each record's id (default: its position).
    `threshold` is the least match probability reported; default: the cut that maximises the F1 the
    fitted model expects (see fellegi_sunter.best_threshold). `window` / `sn_window` bound blocking;
    `progress` is called with a line per phase (for jobs and benchmarks).
    """
    ids = _ids(records, id_field)
    return _score(lambda: prepare_columns(records, fields), fields, ids, None, threshold, window, sn_window,
                  workers, seed, progress)


def dedup_table(
    table: Mapping[str, Sequence[object]],
    fields: Mapping[str, str],
    ids: Sequence[object],
    *,
    threshold: float | None = None,
    window: int = 8,
    sn_window: int = 6,
    workers: int = -1,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    consume: bool = False,
) -> ScoredPairs:
    """`dedup` on records held column by column: `table[field][k]` is record k's value, `ids[k]` its id.

    The same result as `dedup` on the same records, without a dict per record (a million records as
    dicts take gigabytes; as one list per field, a fraction of that). `consume`: empty each of the
    table's lists once it is prepared, so that the raw values do not stay in memory beside their
    prepared forms (for a caller that has no further use for them).
    """
    for name in fields:
        if name in table and len(table[name]) != len(ids):
            raise ValueError(f"field {name!r}: {len(table[name])} values for {len(ids)} ids")
    out = np.empty(len(ids), dtype=object)
    out[:] = list(ids)
    blank = [None] * len(ids)

    def prepare() -> list[Column]:
        columns = []
        for name, kind in fields.items():
            values = table.get(name, blank)
            columns.append(prepare_column(name, kind, values))
            if consume and isinstance(values, list):
                values.clear()
        return columns

    return _score(prepare, fields, out, None, threshold, window, sn_window, workers, seed, progress)


def link(
    left: Sequence[Record],
    right: Sequence[Record],
    fields: Mapping[str, str],
    *,
    left_id: str | None = None,
    right_id: str | None = None,
    threshold: float | None = None,
    one_to_one: bool = False,
    window: int = 8,
    sn_window: int = 6,
    workers: int = -1,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ScoredPairs:
    """Pairs (left record, right record) that are likely the same person, best first.

    `one_to_one`: each record in at most one pair, taken greedily from the best (two files that are each
    free of duplicates). index_2 / id_2 refer to the right-hand file.
    """
    n_left = len(left)
    ids = np.concatenate([_ids(left, left_id), _ids(right, right_id)])
    side = np.concatenate([np.zeros(n_left, np.int8), np.ones(len(right), np.int8)])
    # Both files are prepared as one so that equal values get equal codes; windows widen since half the
    # neighbours of a record come from its own file.
    both = [*left, *right]
    result = _score(lambda: prepare_columns(both, fields), fields, ids, side, threshold, 2 * window, 2 * sn_window,
                    workers, seed, progress)
    if one_to_one:
        used_1, used_2, keep = set(), set(), []
        for k, (a, b) in enumerate(zip(result.index_1.tolist(), result.index_2.tolist(), strict=True)):
            if a not in used_1 and b not in used_2:
                used_1.add(a)
                used_2.add(b)
                keep.append(k)
        _take(result, np.array(keep, dtype=np.int64))
    result.index_2 = result.index_2 - n_left
    return result


def _take(result: ScoredPairs, keep: np.ndarray) -> None:
    for name in ("index_1", "index_2", "id_1", "id_2", "probability", "weight", "levels"):
        setattr(result, name, getattr(result, name)[keep])


# Header → kind, English or Chinese. Exact names first, then words a header contains, in this order so that
# "company name" is a company and "email address" an email.
_EXACT_HEADERS = {
    "name": "name", "fullname": "name", "givenname": "name", "firstname": "name", "surname": "name",
    "lastname": "name", "familyname": "name", "middlename": "name", "姓名": "name", "名字": "name",
    "姓": "name", "名": "name", "联系人": "name", "客户名称": "name",
    "dob": "date", "birthday": "date", "birthdate": "date", "dateofbirth": "date",
    "zip": "postcode", "zipcode": "postcode",
    "city": "text", "suburb": "text", "town": "text", "state": "text", "province": "text", "district": "text",
    "城市": "text", "市": "text", "省": "text", "省份": "text", "区": "text", "区县": "text",
    "ssn": "id", "socsecid": "id", "idnumber": "id", "idcard": "id", "passport": "id", "身份证": "id",
    "身份证号": "id", "身份证号码": "id", "证件号码": "id",
}
_HEADER_WORDS = [
    ("email", "email"), ("e-mail", "email"), ("邮箱", "email"), ("电子邮件", "email"), ("电邮", "email"),
    ("postcode", "postcode"), ("postalcode", "postcode"), ("zipcode", "postcode"), ("邮编", "postcode"),
    ("邮政编码", "postcode"),
    ("birth", "date"), ("生日", "date"), ("出生", "date"),
    ("company", "company"), ("organisation", "company"), ("organization", "company"), ("employer", "company"),
    ("公司", "company"), ("单位", "company"), ("企业", "company"),
    ("phone", "phone"), ("mobile", "phone"), ("tel", "phone"), ("手机", "phone"), ("电话", "phone"),
    ("address", "address"), ("street", "address"), ("地址", "address"), ("住址", "address"),
    ("name", "name"), ("姓名", "name"),
]
_HEADER_NOISE = re.compile(r"[\s_\-.·:：()（）]+")


def guess_kind(header: str) -> str | None:
    """The kind of a column from its header (English or Chinese), or None: 手机号 → phone, given_name → name."""
    h = _HEADER_NOISE.sub("", header.strip().lower())
    if not h:
        return None
    if h in _EXACT_HEADERS:
        return _EXACT_HEADERS[h]
    for word, kind in _HEADER_WORDS:
        if word in h:
            return kind
    return None


def guess_fields(headers: Sequence[str], exclude: Sequence[str] = ()) -> dict[str, str]:
    """field → kind for every header whose kind can be guessed (the id column and `exclude` left out)."""
    out = {}
    for h in headers:
        if h in exclude:
            continue
        kind = guess_kind(h)
        if kind is not None:
            out[h] = kind
    return out
