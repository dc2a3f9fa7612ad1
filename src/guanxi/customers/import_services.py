"""Importing accounts, contacts and leads: upload → mapping → preview → commit (a job) → undo (a job).
Leads (and any record type registered in import_kinds) bring their own cleaning, deciding and writing.

Rows are cleaned by the same rules as the UI and the API (services' cleaning helpers, clean_fields,
custom field validation), but a chunk at a time: look-ups (companies, tags, match keys, possible
duplicates) are one query per chunk, never one per row, and new records are written with multi-row
inserts. Each chunk is one transaction that also writes its ImportBatch (checkpoint + undo log), so
a crash leaves whole chunks only and a resumed job starts after the last one committed.

This module is the public face (the user's actions: upload, mapping, preview, start, undo, downloads);
the work is in import_files (the stored file, read in chunks), import_rows (cleaning one row),
import_plan (deciding a chunk), import_writer (writing a chunk) and import_jobs (the background jobs).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.jobs import start_job
from guanxi.core.models import CustomField, JobProgress, User

from . import services
from .fileio import FIELDS, FileFormatError, Row, check_mapping, guess_mapping, open_rows
from .fileio import apply_template as _apply_template
from .fileio import rejected_csv_chunks as _rejected_csv_chunks
from .import_files import CHUNK, chunks, file_error, file_path, import_dir, max_bytes, scan
from .import_jobs import PARALLEL_FROM, import_task, run_import, run_undo, summary, undo_task
from .import_kinds import kind_of
from .import_models import Import, ImportStatus, ImportTemplate
from .import_plan import MATCH_KEYS, decide, plan_chunk
from .import_rows import Context, Item, prepare
from .import_writer import write_chunk

PREVIEW_PAGE = 50
JOB_IMPORT = "import"
JOB_UNDO = "import_undo"


def _require_editor(actor: User) -> None:
    if not getattr(actor, "can_edit", False):
        raise PermissionDenied(_("Your role may not change records."))


def visible_imports(actor: User):
    """Imports a user may look at: their own; an administrator's, all."""
    qs = Import.objects.select_related("user", "job", "undo_job")
    return qs if actor.is_administrator else qs.filter(user=actor)


# ------------------------------------------------------------------ upload and mapping

def custom_labels(target: str) -> dict[str, str]:
    return {f.key: f.label for f in CustomField.objects.filter(model=target, active=True)}


def upload(actor: User, target: str, source: IO[bytes], filename: str) -> Import:
    """Store the file under GUANXI_HOME/imports/ and read its header; a file that cannot be read is
    a field error on "file" and nothing is kept."""
    _require_editor(actor)
    if target not in FIELDS:
        raise ValidationError({"target": [_("Choose contacts, accounts or leads.")]})
    limit = max_bytes()
    stored = f"{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"
    path = import_dir() / stored
    size = 0
    try:
        with open(path, "wb") as out:
            while block := source.read(1 << 20):
                size += len(block)
                if size > limit:  # stop copying at the limit: a 2 GB upload never lands on disk whole
                    from .fileio.textio import too_large

                    raise too_large(size, limit)
                out.write(block)
        if size == 0:
            raise ValidationError({"file": [_("The file is empty.")]})
        with open_rows(path, filename, max_bytes=limit) as table:
            headers = table.headers
            fmt = table.format
            for _n, _row in zip(range(100), table, strict=False):  # a bad start is reported now, not later
                pass
            encoding = table.encoding
    except FileFormatError as exc:
        path.unlink(missing_ok=True)
        raise file_error(exc)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    mapping = guess_mapping(headers, target, custom_labels(target))
    kind = kind_of(target)
    mapped = set(mapping.values())
    # A kind that matches by default (a lead's email, else its phone) updates instead of duplicating.
    match_key = next((k for k in kind.match_keys if k in mapped), "") if kind is not None else ""
    return Import.objects.create(user=actor, target=target, file_name=Path(filename).name[:255] or stored,
                                 stored_name=stored, size=size, format=fmt, encoding=encoding,
                                 headers=headers, mapping=mapping, match_key=match_key)


def _check_editable(actor: User, imp: Import) -> None:
    _require_editor(actor)
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    if imp.status != ImportStatus.UPLOADED:
        raise ValidationError({"__all__": [_("This import has already been started.")]})


def mapping_errors(imp: Import, mapping: dict[str, str | None], match_key: str) -> dict[str, list[str]]:
    keys = list(custom_labels(imp.target))
    errors: dict[str, list[str]] = {}
    for message, params in check_mapping(mapping, imp.target, keys):
        errors.setdefault("mapping", []).append(_(message) % params)
    unknown = [h for h in mapping if h not in imp.headers]
    if unknown:
        errors.setdefault("mapping", []).append(_("Unknown column: %(columns)s.") % {"columns": ", ".join(unknown)})
    fields = {f for f in mapping.values() if f}
    if not ({"name", "family_name", "given_name"} & fields if imp.target == "contact" else "name" in fields):
        errors.setdefault("mapping", []).append(_("Map a column to the name."))
    if match_key:
        kind = kind_of(imp.target)
        allowed = set(kind.match_keys) if kind is not None else set(MATCH_KEYS) | {f"custom.{k}" for k in keys}
        if match_key not in allowed:
            errors["match_key"] = [_("Not a field records can be matched by.")]
        elif not (match_key in fields or (match_key == "phone" and "mobile" in fields)):
            errors["match_key"] = [_("Map a column to this field to match by it.")]
    return errors


def set_mapping(actor: User, imp: Import, mapping: dict[str, str | None], match_key: str = "",
                template_name: str = "") -> Import:
    """Check and keep the mapping (and the match key); save it as a template when a name is given."""
    _check_editable(actor, imp)
    mapping = {str(h): (str(f) if f else None) for h, f in (mapping or {}).items()}
    mapping = {h: mapping.get(h) for h in imp.headers}
    match_key = (match_key or "").strip()
    errors = mapping_errors(imp, mapping, match_key)
    template_name = (template_name or "").strip()
    if len(template_name) > 100:
        errors["template_name"] = [_("At most 100 characters.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        imp.mapping, imp.match_key = mapping, match_key
        imp.save(update_fields=["mapping", "match_key"])
        if template_name:
            ImportTemplate.objects.update_or_create(user=actor, target=imp.target, name=template_name,
                                                    defaults={"mapping": {h: f for h, f in mapping.items() if f}})
    return imp


def match_keys(target: str) -> list[str]:
    """The fields records of `target` can be matched by (custom fields as custom.<key>)."""
    kind = kind_of(target)
    if kind is not None:
        return list(kind.match_keys)
    return [*MATCH_KEYS, *(f"custom.{key}" for key in custom_labels(target))]


def templates_for(actor: User, target: str):
    return ImportTemplate.objects.filter(user=actor, target=target)


def apply_template(actor: User, imp: Import, template_id: Any) -> dict[str, str | None]:
    """The template's mapping fitted to this file's headers (guesses for the headers it does not know)."""
    template = templates_for(actor, imp.target).filter(pk=services.int_or_none(template_id)).first()
    if template is None:
        raise ValidationError({"template": [_("No such template.")]})
    return _apply_template(imp.headers, template.mapping, imp.target, custom_labels(imp.target))


# ------------------------------------------------------------------ preview and dry run

@dataclass
class Preview:
    items: list[Item]
    page: int
    has_next: bool
    counts: dict[str, int]


def preview(actor: User, imp: Import, page: int = 0, per_page: int = PREVIEW_PAGE) -> Preview:
    """One page of rows with what would happen to each (nothing is written), and the counts of the page."""
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    ctx = Context.load(actor, imp)
    page = max(0, int(page))
    rows: list[Row] = []
    has_next = False
    try:
        with open_rows(file_path(imp), imp.file_name, max_bytes=max_bytes()) as table:
            for n, row in enumerate(table):
                if n < page * per_page:
                    continue
                if len(rows) == per_page:
                    has_next = True
                    break
                rows.append(row)
    except FileFormatError as exc:
        raise file_error(exc)
    items, _accounts = plan_chunk(ctx, rows)
    counts = {k: sum(1 for it in items if it.action == k) for k in ("new", "update", "reject", "flag")}
    return Preview(items, page, has_next, counts)


def dry_run(actor: User, imp: Import) -> dict[str, int]:
    """Every row checked and decided as the import would, chunk by chunk, writing nothing."""
    ctx = Context.load(actor, imp)
    counts = dict.fromkeys(("rows", "new", "update", "reject", "flag"), 0)
    try:
        for _number, rows in chunks(imp):
            items, _accounts = plan_chunk(ctx, rows)
            counts["rows"] += len(items)
            for it in items:
                counts[it.action] += 1
    except FileFormatError as exc:
        raise file_error(exc)
    return counts


# ------------------------------------------------------------------ commit and undo (jobs)

def start_import(actor: User, imp: Import) -> JobProgress:
    """Start (or resume, after a stop) the import as a background job."""
    _require_editor(actor)
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status not in (ImportStatus.UPLOADED, ImportStatus.FAILED):
            if imp.job_id and imp.status == ImportStatus.RUNNING:
                return imp.job
            raise ValidationError({"__all__": [_("This import cannot be started again.")]})
        errors = mapping_errors(imp, imp.mapping, imp.match_key)
        if errors:
            raise ValidationError(errors)
        job = start_job(actor, JOB_IMPORT, _("Import %(file)s") % {"file": imp.file_name}, import_task,
                        import_id=imp.pk)
        imp.job, imp.status = job, ImportStatus.RUNNING
        imp.save(update_fields=["job", "status"])
    return job


def start_undo(actor: User, imp: Import) -> JobProgress:
    _require_editor(actor)
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status == ImportStatus.UNDOING and imp.undo_job_id:
            return imp.undo_job
        if imp.status not in (ImportStatus.DONE, ImportStatus.FAILED) or not imp.batches.exists():
            raise ValidationError({"__all__": [_("Only a finished or stopped import can be undone.")]})
        job = start_job(actor, JOB_UNDO, _("Undo import %(file)s") % {"file": imp.file_name}, undo_task,
                        import_id=imp.pk)
        imp.undo_job, imp.status = job, ImportStatus.UNDOING
        imp.save(update_fields=["undo_job", "status"])
    return job


# ------------------------------------------------------------------ downloads

def rejected_csv(imp: Import) -> Iterator[bytes]:
    """The rejected rows with the reason per cell, then the flagged ones, as CSV to fix and upload again."""
    def rows() -> Iterator[tuple[list[str], dict]]:
        for batch in imp.batches.order_by("number").values_list("rejected", "flagged").iterator(chunk_size=20):
            for _line, cells, errors in batch[0]:
                yield cells, {col or None: msgs for col, msgs in errors.items()}
            for _line, cells, _pk, reason in batch[1]:
                yield cells, [reason]
    return _rejected_csv_chunks(imp.headers, rows(), errors_header=_("errors"))


def save_rejected(imp: Import, path: Path) -> Path:
    with open(path, "wb") as out:
        for chunk in rejected_csv(imp):
            out.write(chunk)
    return path


def remove_file(imp: Import) -> None:
    file_path(imp).unlink(missing_ok=True)


__all__ = ["CHUNK", "MATCH_KEYS", "PARALLEL_FROM", "PREVIEW_PAGE", "Context", "Item", "Preview",
           "apply_template", "chunks", "custom_labels", "decide", "dry_run", "file_path", "import_dir",
           "import_task", "mapping_errors", "match_keys", "max_bytes", "plan_chunk", "prepare", "preview",
           "rejected_csv",
           "remove_file", "run_import", "run_undo", "save_rejected", "scan", "set_mapping", "start_import",
           "start_undo", "summary", "templates_for", "undo_task", "upload", "visible_imports", "write_chunk"]
