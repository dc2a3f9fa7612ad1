"""The background work of an import and of its undo: the file checked whole, then chunk after chunk
from the checkpoint on (cleaned in worker processes while this one decides and writes); undo chunk by
chunk, newest first, each in its own transaction."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count, islice

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from guanxi.core.jobs import progress, tracked
from guanxi.core.models import AuditAction, AuditEntry, User
from guanxi.core.records import write_audit

from .fileio import FileFormatError, Row
from .import_files import CHUNK, chunks, file_error, scan
from .import_kinds import kind_of
from .import_models import ExternalKey, Import, ImportBatch, ImportStatus
from .import_plan import decide
from .import_rows import Context, Item, prepare
from .import_writer import delete_searchable, expand_ranges, insert_rows, write_chunk
from .models import Account, Address, Contact, ContactMethod

_WORKER_CTX: Context | None = None
PARALLEL_FROM = 3  # chunks: smaller files are cleaned in this process
# Chunks committed together. A commit writes every index page the transaction touched to the WAL; at 1M
# contacts the indexes' keys (names, phones, emails) land on pages all over, so five chunks a commit halve that
# cost (measured: commits 69 s → 27 s of a 1M-row import). Chunks stay the checkpoint and undo unit.
CHUNKS_PER_COMMIT = 5


def _prepare_in_worker(rows: list[Row]) -> list[Item]:
    assert _WORKER_CTX is not None
    items = prepare(_WORKER_CTX, rows)
    for it in items:
        it.cells = {}  # the parent still has the chunk's rows: less to pickle back and unpickle there
    return items


def _with_cells(items: list[Item], rows: list[Row]) -> list[Item]:
    cells = {row.line: row.values for row in rows}
    for it in items:
        it.cells = cells.get(it.line, {})
    return items


def _prepared(ctx: Context, imp: Import, skip: int, total: int) -> Iterator[tuple[int, list[Item]]]:
    """(number, cleaned items) in order. For a large file forked processes clean the next chunks while
    this one queries and writes; the workers never touch the database (only this process does)."""
    global _WORKER_CTX
    import multiprocessing
    import os
    from collections import deque

    workers = min(2, os.cpu_count() or 1)
    if total < PARALLEL_FROM * CHUNK or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for number, rows in chunks(imp, skip):
            yield number, prepare(ctx, rows)
        return
    _WORKER_CTX = ctx
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=gc.enable) as pool:
            pending: deque = deque()
            for number, rows in chunks(imp, skip):
                pending.append((number, rows, pool.apply_async(_prepare_in_worker, (rows,))))
                if len(pending) > workers * 2:  # a few chunks ahead, no more: memory stays flat
                    n, sent, result = pending.popleft()
                    yield n, _with_cells(result.get(), sent)
            while pending:
                n, sent, result = pending.popleft()
                yield n, _with_cells(result.get(), sent)
    finally:
        _WORKER_CTX = None



@contextmanager
def _collector_between_commits() -> Iterator[Callable[[int], None]]:
    """Python's cyclic garbage collector runs between commit groups instead of on its own. Left automatic it
    counted each chunk's tens of thousands of live row objects as new garbage candidates and scanned every
    object in the process again and again: 44 s of a 1M-row import. Rows form no reference cycles (they are
    freed with their chunk), so the young generations are swept after each commit and everything every ten,
    which keeps memory as flat as before. The cleaning workers keep their own automatic collector."""
    was_enabled = gc.isenabled()
    gc.disable()

    def collect(group: int) -> None:
        gc.collect() if group % 10 == 9 else gc.collect(1)

    try:
        yield collect
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _fewer_checkpoints(pages: int = 16384) -> Iterator[None]:
    """SQLite: while the import writes, the WAL is copied back into the database every 64 MB instead of
    every 4 MB (SQLite's default): a chunk touches pages all over the indexes, so at 1M rows each commit
    paid for a checkpoint of its own. Durability is unchanged: every chunk's commit is in the WAL."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")


def run_import(imp_id: int, job_id: str | None = None,
               on_chunk: Callable[[int, dict], None] | None = None) -> Import:
    """The import's work: check the whole file, then chunk after chunk from the checkpoint on.

    `on_chunk(number, counts)` runs after each committed chunk (progress; tests stop the run there)."""
    imp = Import.objects.select_related("user").get(pk=imp_id)
    actor = imp.user
    if actor is None or not actor.is_active or not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    if imp.status == ImportStatus.DONE:
        return imp
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.RUNNING)
    try:
        if job_id:
            progress(job_id, 0, None, _("Checking the file…"))
        total = scan(imp)
        Import.objects.filter(pk=imp.pk).update(estimated_rows=total)
        ctx = Context.load(actor, imp)
        first = imp.checkpoint
        if first == 0:
            write_audit(imp, actor, AuditAction.CREATE, {"file": [None, imp.file_name], "target": [None, imp.target]})
        done = min(total, first * CHUNK)
        if job_id:
            progress(job_id, done, total, _("Importing…"))
        with _fewer_checkpoints(), _collector_between_commits() as collect:
            stream = _prepared(ctx, imp, first, total)
            for group in count():
                written = []
                with transaction.atomic():  # each chunk's own atomic block is a savepoint in it
                    for number, prepared in islice(stream, CHUNKS_PER_COMMIT):
                        items, accounts = decide(ctx, prepared)
                        written.append((number, write_chunk(ctx, imp, number, items, accounts)))
                if not written:
                    break
                collect(group)
                for number, counts in written:
                    done += counts["rows"]
                    if job_id:
                        progress(job_id, done, max(total, done))
                    if on_chunk:
                        on_chunk(number, counts)
    except FileFormatError as exc:
        Import.objects.filter(pk=imp.pk).update(status=ImportStatus.FAILED)
        raise file_error(exc)
    except BaseException:
        Import.objects.filter(pk=imp.pk).update(status=ImportStatus.FAILED)
        raise
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())
    imp.refresh_from_db()
    write_audit(imp, actor, AuditAction.UPDATE, {"status": [None, "done"], "created": [None, imp.created],
                                                 "updated": [None, imp.updated], "rejected": [None, imp.rejected],
                                                 "flagged": [None, imp.flagged]})
    return imp


def summary(imp: Import) -> str:
    return _("%(created)d created, %(updated)d updated, %(rejected)d rejected, %(flagged)d flagged as possible "
             "duplicates.") % {"created": imp.created, "updated": imp.updated, "rejected": imp.rejected,
                               "flagged": imp.flagged}


@task()
@tracked
def import_task(job_id: str, import_id: int) -> str:
    try:
        imp = run_import(import_id, job_id)
    except ValidationError as exc:
        raise RuntimeError("; ".join(exc.messages)) from None
    return summary(imp)


def _undo_batch(imp: Import, batch: ImportBatch, actor: User) -> None:
    kind = kind_of(imp.target)
    if kind is not None:
        kind.undo(imp, batch, actor)
        return
    contact = imp.target == "contact"
    model = Contact if contact else Account
    link = "contact_id" if contact else "account_id"
    ct = ContentType.objects.get_for_model(model)
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    audits = []
    with transaction.atomic():
        if not ImportBatch.objects.filter(pk=batch.pk, undone=False).update(undone=True):
            return  # undone by an earlier run of this job
        for pk, _before, added in reversed(batch.updated):
            if added.get("methods"):
                for kind, normalized in added["methods"]:
                    ContactMethod.objects.filter(contact_id=pk, kind=kind, normalized=normalized).delete()
            if added.get("addresses"):
                newest = Address.objects.filter(**{link: pk}).order_by("-id").values_list("pk", flat=True)
                Address.objects.filter(pk__in=list(newest[:added["addresses"]])).delete()
            if added.get("tags"):
                model.tags.through.objects.filter(**{link: pk, "tag_id__in": added["tags"]}).delete()
            if added.get("accounts"):
                Contact.accounts.through.objects.filter(contact_id=pk, account_id__in=added["accounts"]).delete()
        restore(model, batch.updated)
        for pk, before, _added in batch.updated:
            audits.append((ct.pk, pk, "", actor.pk, stamp, AuditAction.UPDATE,
                           json.dumps({k: ["", v] for k, v in before.items() if k != "search_text"} |
                                      {"undo import": [imp.pk, None]}, ensure_ascii=False, default=str), 0))
        created = expand_ranges(batch.created_ids)
        if created:
            names = dict(model.objects.filter(pk__in=created).values_list("pk", "name"))
            audits.extend((ct.pk, pk, names.get(pk, "")[:200], actor.pk, stamp, AuditAction.DELETE,
                           json.dumps({"undo import": [imp.pk, None]}), 0) for pk in created if pk in names)
            ExternalKey.objects.filter(target=imp.target, object_id__in=created).delete()
            delete_searchable(model, created)
        accounts = expand_ranges(batch.created_accounts)
        if accounts:
            act = ContentType.objects.get_for_model(Account).pk
            audits.extend((act, pk, "", actor.pk, stamp, AuditAction.DELETE,
                           json.dumps({"undo import": [imp.pk, None]}), 0) for pk in accounts)
            delete_searchable(Account, accounts)
        insert_rows(AuditEntry, ("content_type_id", "object_id", "object_repr", "actor_id", "at", "action", "changes",
                             "version"), audits)


def restore(model: type, updated: list[list]) -> None:
    """Put back the columns an import changed, one statement per set of columns (not one per record)."""
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for pk, before, _added in updated:
        cols = tuple(sorted(before))
        if not cols:
            continue
        values = []
        for col in cols:
            value = before[col]
            if col == "custom":
                value = json.dumps(value or {}, ensure_ascii=False)
            elif col == "birthday" and value and connection.vendor == "postgresql":
                value = dt.date.fromisoformat(value)
            values.append(value)
        groups.setdefault(cols, []).append((*values, pk))
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for cols, params in groups.items():
            sets = ", ".join(f'"{c}" = %s' for c in cols)
            cursor.executemany(f'UPDATE "{table}" SET {sets}, "version" = "version" + 1 WHERE "id" = %s', params)


def run_undo(imp_id: int, job_id: str | None = None) -> Import:
    imp = Import.objects.select_related("user").get(pk=imp_id)
    actor = imp.user
    batches = list(imp.batches.filter(undone=False).order_by("-number").only("pk"))
    total = len(batches)
    for n, stub in enumerate(batches, 1):
        batch = ImportBatch.objects.get(pk=stub.pk)  # one batch's log in memory at a time
        _undo_batch(imp, batch, actor)
        if job_id:
            progress(job_id, n, total)
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.UNDONE, finished_at=timezone.now())
    write_audit(imp, actor, AuditAction.DELETE, {"undo": [None, imp.file_name], "created": [imp.created, 0],
                                                 "updated": [imp.updated, 0]})
    imp.refresh_from_db()
    return imp


@task()
@tracked
def undo_task(job_id: str, import_id: int) -> str:
    imp = run_undo(import_id, job_id)
    return _("Import undone: %(created)d records deleted, %(updated)d restored.") % {
        "created": imp.created, "updated": imp.updated}
