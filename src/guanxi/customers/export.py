"""Exports of a list the user may see, with its filters: CSV, XLSX and vCard, streamed.

Rows are read in keyset batches as `values()` rows, and each batch's related lists (phones, emails,
addresses, tags, linked accounts) come from the API's row builders in a fixed number of queries —
never one per row — so a million rows need no more memory than a thousand. The file writers are
`customers.fileio` (BOM and formula neutralising for CSV, openpyxl write-only for XLSX, vCard 4.0).

XLSX cannot be streamed before the whole workbook is written (a zip with its directory at the end):
it is built in a temporary file, and above XLSX_SYNC_LIMIT rows it runs as a background job with
progress and a download link, because the browser would otherwise wait minutes for the first byte.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_tasks import task

from guanxi.core import jobs
from guanxi.core.models import CustomField, JobProgress, User

from .api_rows import account_dicts, account_values, contact_dicts, contact_values
from .fileio import csv_chunks, vcard_chunks, write_xlsx
from .filters import ACCOUNT_SORTS, CONTACT_SORTS, apply_filters
from .models import Account, Contact

BATCH = 1000
FORMATS = ("csv", "xlsx", "vcf")
# Measured (bench/export.py): an XLSX of 10,000 contacts through Django takes 5 s before its first byte,
# so up to 20,000 rows (~10 s) download directly; more go to a background job. CSV and vCard always
# stream: their first bytes leave after the first batch, whatever the size.
XLSX_SYNC_LIMIT = 20_000
EXPORT_JOB = "export"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}
MODELS: dict[str, type] = {"account": Account, "contact": Contact}
SORTS = {"account": ACCOUNT_SORTS, "contact": CONTACT_SORTS}
_CN_MOBILE = re.compile(r"\+861[3-9]\d{9}")


def check_format(fmt: str | None) -> str:
    fmt = (fmt or "csv").strip().lower()
    if fmt == "vcard":
        fmt = "vcf"
    if fmt not in FORMATS:
        raise ValidationError({"format": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(FORMATS)}]})
    return fmt


def check_sort(kind: str, sort: str | None) -> str:
    sort = (sort or "id").strip()
    if sort not in SORTS[kind]:
        raise ValidationError({"sort": [_("Sort by one of: %(choices)s.") % {"choices": ", ".join(SORTS[kind])}]})
    return sort


def export_queryset(kind: str, user: User, params: Mapping[str, Any]) -> QuerySet:
    """The records of a list view: only what the user may see, narrowed by the list's filters."""
    return apply_filters(MODELS[kind].objects.visible_to(user), params, user)


def records(kind: str, qs: QuerySet, user: User, sort: str = "id", batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """The rows of `qs` as the API shows them (related lists included), a keyset batch at a time, in `sort`
    order; each batch costs a fixed handful of queries. Linked accounts carry "account_names"."""
    from guanxi.core.paging import paginate

    values = account_values(qs) if kind == "account" else contact_values(qs)
    cursor = None
    while True:
        page = paginate(values, sort=sort, allowed=SORTS[kind], cursor=cursor, limit=batch)
        if not page.items:
            return
        if kind == "account":
            yield from account_dicts(page.items, user)
        else:
            rows = contact_dicts(page.items, user)
            ids = {a for r in rows for a in r["account_ids"]}  # only linked accounts the user may see
            names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
            for row in rows:
                row["account_names"] = [names[a] for a in row["account_ids"] if a in names]
                yield row
        if not page.next_cursor:
            return
        cursor = page.next_cursor


# ------------------------------------------------------------------ the columns


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def _local(stamp: str | None) -> str:
    if not stamp:
        return ""
    moment = dt.datetime.fromisoformat(stamp)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _custom(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _yes(value)
    return "" if value is None else value


def first_address(row: Mapping[str, Any]) -> dict[str, str]:
    addresses = row.get("addresses") or []
    return addresses[0] if addresses else {}


def _address(key: str) -> Callable[[dict], str]:
    return lambda r: first_address(r).get(key, "")


def _name_of(ref: dict | None) -> str:
    return ref["name"] if ref else ""


def _values(items: list[dict], skip: str = "") -> str:
    return ", ".join(i["value"] for i in items if i["normalized"] != skip)


_ADDRESS_COLUMNS = [
    ("country", gettext_lazy("country"), _address("country")),
    ("province", gettext_lazy("province"), _address("province")),
    ("city", gettext_lazy("city"), _address("city")),
    ("district", gettext_lazy("district"), _address("district")),
    ("street", gettext_lazy("street"), _address("street")),
    ("postcode", gettext_lazy("postcode"), _address("postcode")),
]
_TAIL = [
    ("owner", gettext_lazy("owner"), lambda r: _name_of(r["owner"])),
    ("team", gettext_lazy("team"), lambda r: _name_of(r["team"])),
    ("tags", gettext_lazy("tags"), lambda r: ", ".join(r["tags"])),
    ("description", gettext_lazy("notes"), lambda r: r["description"]),
    ("created_at", gettext_lazy("created"), lambda r: _local(r["created_at"])),
    ("updated_at", gettext_lazy("updated"), lambda r: _local(r["updated_at"])),
]
# (key, header, cell): the first two columns (ID, name) stay where earlier exports had them.
CONTACT_COLUMNS = [
    ("id", "ID", lambda r: r["id"]),
    ("name", pgettext_lazy("person", "name"), lambda r: r["name"]),
    ("title", gettext_lazy("job title"), lambda r: r["title"]),
    ("department", gettext_lazy("department"), lambda r: r["department"]),
    ("company", gettext_lazy("company"), lambda r: _name_of(r["primary_account"])),
    ("phone", gettext_lazy("phone"), lambda r: r["phone"]),
    ("email", gettext_lazy("email"), lambda r: r["email"]),
    ("other_phones", gettext_lazy("other phones"), lambda r: _values(r["phones"], r["phone"])),
    ("other_emails", gettext_lazy("other emails"), lambda r: _values(r["emails"], r["email"])),
    ("accounts", gettext_lazy("all accounts"), lambda r: ", ".join(r["account_names"])),
    *_ADDRESS_COLUMNS,
    ("birthday", gettext_lazy("birthday"), lambda r: r["birthday"].isoformat() if r["birthday"] else ""),
    ("preferred_channel", gettext_lazy("preferred channel"), lambda r: r["preferred_channel"]),
    ("marketing_consent", gettext_lazy("marketing consent"), lambda r: _yes(r["marketing_consent"])),
    *_TAIL,
]
ACCOUNT_COLUMNS = [
    ("id", "ID", lambda r: r["id"]),
    ("name", gettext_lazy("name"), lambda r: r["name"]),
    ("industry", gettext_lazy("industry"), lambda r: r["industry"]),
    ("size", gettext_lazy("size"), lambda r: r["size"]),
    ("classification", gettext_lazy("classification"), lambda r: r["classification"]),
    ("source", gettext_lazy("source"), lambda r: r["source"]),
    ("lifecycle_stage", gettext_lazy("lifecycle stage"), lambda r: r["lifecycle_stage"]),
    ("website", gettext_lazy("website"), lambda r: r["website"]),
    ("phone", gettext_lazy("phone"), lambda r: r["phone"]),
    ("email", gettext_lazy("email"), lambda r: r["email"]),
    ("parent", gettext_lazy("parent account"), lambda r: _name_of(r["parent"])),
    *_ADDRESS_COLUMNS,
    *_TAIL,
]


def table(kind: str, rows: Iterable[dict[str, Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """(headers, cells of each row) of an export: the fixed columns, then the active custom fields."""
    columns = ACCOUNT_COLUMNS if kind == "account" else CONTACT_COLUMNS
    fields = list(CustomField.objects.filter(model=kind, active=True))
    headers = [str(label) for _key, label, _cell in columns] + [f.label for f in fields]
    cells = [cell for _key, _label, cell in columns]
    keys = [f.key for f in fields]

    def lines() -> Iterator[list[Any]]:
        for row in rows:
            custom = row["custom"]
            yield [cell(row) for cell in cells] + [_custom(custom.get(k)) for k in keys]

    return headers, lines()


def vcard_row(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """A record as the vCard writer's columns (fileio.VCARD_COLUMNS)."""
    address = first_address(row)
    out: dict[str, Any] = {
        "name": row["name"], "email": row["email"], "tags": ", ".join(row["tags"]), "notes": row["description"],
        "address": address.get("line", ""), "street": address.get("street", ""),
        "district": address.get("district", ""), "city": address.get("city", ""),
        "province": address.get("province", ""), "postcode": address.get("postcode", ""),
        "country": address.get("country", ""), "external_id": f"guanxi:{kind}:{row['id']}",
    }
    if kind == "account":
        out.update(account=row["name"], phone=row["phone"], website=row["website"])
        return out
    # A Chinese mobile number is TEL;TYPE=cell (phones import it as 手机); anything else a voice line.
    slot = "mobile" if _CN_MOBILE.fullmatch(row["phone"] or "") else "phone"
    out.update({
        "account": _name_of(row["primary_account"]), "department": row["department"], "title": row["title"],
        slot: row["phone"], "other_phones": _values(row["phones"], row["phone"]),
        "other_emails": _values(row["emails"], row["email"]),
        "birthday": row["birthday"].isoformat() if row["birthday"] else "",
    })
    return out


def chunks(kind: str, fmt: str, rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The export file's bytes, produced as the rows arrive (XLSX: once its temporary file is complete)."""
    if fmt == "vcf":
        return vcard_chunks((vcard_row(kind, r) for r in rows), kind="org" if kind == "account" else "individual")
    headers, lines = table(kind, rows)
    if fmt == "xlsx":
        return _xlsx_chunks(kind, headers, lines)
    return csv_chunks(headers, lines)


def _xlsx_chunks(kind: str, headers: list[str], lines: Iterator[list[Any]]) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as spool:
        write_xlsx(spool, headers, lines, title=sheet_title(kind))
        spool.seek(0)
        while chunk := spool.read(64 * 1024):
            yield chunk


def sheet_title(kind: str) -> str:
    return str(_("Accounts") if kind == "account" else _("Contacts"))


def filename(kind: str, fmt: str) -> str:
    return f"{kind}s-{timezone.localdate().isoformat()}.{fmt}"


def needs_job(fmt: str, qs: QuerySet) -> bool:
    """An XLSX too big to build while the browser waits for its first byte."""
    return fmt == "xlsx" and qs[XLSX_SYNC_LIMIT:XLSX_SYNC_LIMIT + 1].exists()


# ------------------------------------------------------------------ big XLSX exports as a job


def job_file(job_id: str) -> str:
    return f"exports/{job_id}.xlsx"


def start_export_job(user: User, kind: str, params: Mapping[str, Any], sort: str = "id") -> JobProgress:
    """Write the export to storage in the background; the job's page links to the file when done."""
    plain = {key: params.getlist(key) if hasattr(params, "getlist") else params[key] for key in params}
    label = _("Export of %(what)s (Excel)") % {"what": sheet_title(kind)}
    return jobs.start_job(user, EXPORT_JOB, label, export_job, user_id=user.pk, record_type=kind,
                          params=plain, sort=sort)


@task()
@jobs.tracked
def export_job(job_id: str, user_id: int, record_type: str, params: dict[str, list[str]], sort: str = "id") -> str:
    """Build the workbook in a temporary file, then store it; a re-run writes the same file again."""
    kind = record_type
    user = User.objects.get(pk=user_id)
    qs = export_queryset(kind, user, params)
    total = qs.count()
    jobs.progress(job_id, 0, total, _("Writing the workbook…"))
    state = {"done": 0}

    def counted() -> Iterator[dict[str, Any]]:
        for row in records(kind, qs, user, sort):
            state["done"] += 1
            if state["done"] % BATCH == 0:
                jobs.progress(job_id, state["done"], max(total, state["done"]))
            yield row

    headers, lines = table(kind, counted())
    name = job_file(job_id)
    with tempfile.TemporaryFile() as spool:
        write_xlsx(spool, headers, lines, title=sheet_title(kind))
        spool.seek(0)
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, File(spool, name=name))
    return _("%(count)d rows exported.") % {"count": state["done"]}
