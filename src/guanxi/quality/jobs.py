"""The duplicates scan: every contact (or account) with its phones, emails, address and company, read in
keyset chunks (a few queries per chunk, none per row), scored by the dedup engine, stored in the review queue.

Idempotent: a pair already queued keeps its status (a dismissed pair stays dismissed) and only gets the
new score; running it twice stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from guanxi.core.access import require_admin
from guanxi.core.jobs import progress, start_job, tracked
from guanxi.core.models import JobProgress, JobStatus, User
from guanxi.customers.models import Account, Address, Contact, ContactMethod, ContactMethodKind
from guanxi.quality.dedup import dedup_table
from guanxi.quality.kinds import LEVELS

from .models import DuplicatePair, PairSource, RecordKind

SCAN = "dedup_scan"
CHUNK = 20_000
STORE_BATCH = 5_000
CONTACT_FIELDS = {"name": "name", "phone": "phone", "email": "email", "birthday": "date", "address": "address",
                  "company": "company"}
ACCOUNT_FIELDS = {"name": "company", "phone": "phone", "email": "email", "website": "text", "address": "address"}
FIELDS = {RecordKind.CONTACT: CONTACT_FIELDS, RecordKind.ACCOUNT: ACCOUNT_FIELDS}
Report = Callable[[int, str | None], None]


def _first_by_owner(rows: Iterator[tuple[int, str]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for owner, value in rows:
        if owner is not None and value and owner not in out:
            out[owner] = value
    return out


def _address_line(row: tuple) -> str:
    return "".join(p for p in row[1:] if p)


class Table:
    """Records column by column (one list per field, ids apart): what the engine reads, without a dict per
    record, which at a million contacts costs gigabytes."""

    def __init__(self, fields: list[str]) -> None:
        self.ids: list[int] = []
        self.columns: dict[str, list[Any]] = {f: [] for f in fields}

    def __len__(self) -> int:
        return len(self.ids)

    def records(self) -> Iterator[dict[str, Any]]:
        """One dict a record (for tests and small exports)."""
        names = list(self.columns)
        for k, pk in enumerate(self.ids):
            yield {"id": pk, **{f: self.columns[f][k] for f in names}}


def _contact_chunks(table: Table, chunk: int) -> Iterator[int]:
    """Fills `table` with contacts chunk by chunk (yielding the count so far): main phone and email, first
    address, main company."""
    ids, cols, last = table.ids, table.columns, 0
    name, phone, email, birthday = cols["name"], cols["phone"], cols["email"], cols["birthday"]
    address, company = cols["address"], cols["company"]
    # Names, companies and birthdays repeat: one object per distinct value instead of one per row.
    shared: dict[object, object] = {}
    one = shared.setdefault
    while True:
        rows = list(Contact._base_manager.filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "name", "phone", "email", "birthday", "primary_account__name")[:chunk])
        if not rows:
            return
        lo, hi = rows[0][0], rows[-1][0]
        span = {"contact_id__gte": lo, "contact_id__lte": hi}
        # Rows made outside the services may lack the denormalised main phone/email: take their first method
        # (only those rows' methods are read).
        methods = ContactMethod.objects.filter(**span).order_by("contact_id", "-is_primary", "id")
        phones = _first_by_owner(methods.filter(kind=ContactMethodKind.PHONE, contact__phone="")
                                 .values_list("contact_id", "normalized").iterator(chunk_size=chunk))
        emails = _first_by_owner(methods.filter(kind=ContactMethodKind.EMAIL, contact__email="")
                                 .values_list("contact_id", "normalized").iterator(chunk_size=chunk))
        addresses: dict[int, str] = {}
        for row in Address.objects.filter(**span).order_by("contact_id", "id").values_list(
                "contact_id", "province", "city", "district", "street").iterator(chunk_size=chunk):
            if row[0] not in addresses:
                addresses[row[0]] = _address_line(row)
        for pk, name_, phone_, email_, birthday_, company_ in rows:
            ids.append(pk)
            name.append(one(name_, name_))
            phone.append(phone_ or phones.get(pk, ""))
            email.append(email_ or emails.get(pk, ""))
            birthday.append(one(birthday_, birthday_))  # a date: the engine reads its ISO form
            address.append(addresses.get(pk, ""))
            company.append(one(company_, company_) if company_ else "")
        last = hi
        yield len(ids)


def _account_chunks(table: Table, chunk: int) -> Iterator[int]:
    ids, cols, last = table.ids, table.columns, 0
    while True:
        rows = list(Account._base_manager.filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "name", "phone", "email", "website")[:chunk])
        if not rows:
            return
        lo, hi = rows[0][0], rows[-1][0]
        addresses: dict[int, str] = {}
        for row in Address.objects.filter(account_id__gte=lo, account_id__lte=hi).order_by("account_id", "id") \
                .values_list("account_id", "province", "city", "district", "street").iterator(chunk_size=chunk):
            if row[0] not in addresses:
                addresses[row[0]] = _address_line(row)
        for pk, *values in rows:
            ids.append(pk)
            for f, value in zip(("name", "phone", "email", "website"), values, strict=True):
                cols[f].append(value)
            cols["address"].append(addresses.get(pk, ""))
        last = hi
        yield len(ids)


def read_table(kind: str, chunk: int = CHUNK, report: Report | None = None) -> Table:
    """Every record of a kind with the fields the scan compares, read by id in keyset chunks."""
    table = Table(list(FIELDS[kind]))
    reader = _contact_chunks if kind == RecordKind.CONTACT else _account_chunks
    for done in reader(table, chunk):
        if report is not None:
            report(done, None)
    return table


def scan(kind: str, *, threshold: float | None = None, report: Report | None = None) -> dict[str, Any]:
    """Read, score and store; returns counts and the threshold used. `report(done, message)` follows progress."""
    def say(done: int, message: str | None = None) -> None:
        if report is not None:
            report(done, message)

    if kind not in FIELDS:
        raise ValueError(f"unknown kind {kind!r}")
    table = read_table(kind, report=report)
    count = len(table)
    say(count, _("Comparing %(count)d records…") % {"count": count})
    if count < 2:
        return {"records": count, "pairs": 0, "new": 0, "threshold": threshold}
    result = dedup_table(table.columns, FIELDS[kind], table.ids, threshold=threshold, consume=True,
                         progress=lambda line: say(count, line.strip()))
    del table
    new = store(kind, result)
    return {"records": count, "pairs": len(result), "new": new, "threshold": result.threshold}


def _count(kind: str) -> int:
    return (Contact if kind == RecordKind.CONTACT else Account)._base_manager.count()


def store(kind: str, result: Any) -> int:
    """Queue the pairs: new ones as open, known ones get the new score and keep their status."""
    names = list(result.fields)
    level_names = [LEVELS[k] for k in result.kinds]
    before = DuplicatePair.objects.filter(kind=kind).count()
    batch: list[DuplicatePair] = []

    def flush() -> None:
        with transaction.atomic():
            DuplicatePair.objects.bulk_create(batch, update_conflicts=True, update_fields=["score", "levels"],
                                              unique_fields=["kind", "record_1", "record_2"])
        batch.clear()

    ids_1, ids_2 = result.id_1.tolist(), result.id_2.tolist()
    probabilities = result.probability.tolist()
    levels = result.levels.tolist()
    for k in range(len(ids_1)):
        a, b = DuplicatePair.ordered(int(ids_1[k]), int(ids_2[k]))
        batch.append(DuplicatePair(
            kind=kind, record_1=a, record_2=b, score=round(probabilities[k], 6), source=PairSource.SCAN,
            levels={names[f]: level_names[f][lv] for f, lv in enumerate(levels[k])},
        ))
        if len(batch) >= STORE_BATCH:
            flush()
    if batch:
        flush()
    return DuplicatePair.objects.filter(kind=kind).count() - before


@task()
@tracked
def scan_duplicates(job_id: str, record_kind: str = RecordKind.CONTACT, threshold: float | None = None) -> str:
    kind = record_kind
    total = _count(kind)
    progress(job_id, 0, total, _("Reading records…"))

    def report(done: int, message: str | None) -> None:
        progress(job_id, min(done, total), total, message)

    out = scan(kind, threshold=threshold, report=report)
    return _("%(records)d records compared; %(pairs)d possible duplicate pairs, %(new)d new.") % out


def start_scan(user: User, kind: str = RecordKind.CONTACT) -> JobProgress:
    """An administrator starts a scan, or gets the one of that kind already queued or running."""
    require_admin(user, _("Only an administrator may scan for duplicates."))
    if kind not in FIELDS:
        kind = RecordKind.CONTACT
    label = _("Find duplicate contacts") if kind == RecordKind.CONTACT else _("Find duplicate accounts")
    with transaction.atomic():
        current = JobProgress.objects.filter(kind=f"{SCAN}_{kind}",
                                             status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
        if current is not None:
            return current
        return start_job(user, f"{SCAN}_{kind}", label, scan_duplicates, record_kind=str(kind))
