"""Writing one decided chunk in its own transaction: multi-row inserts (COPY on PostgreSQL) with ids
allocated up front, updates that only fill in and add, the audit trail, and the chunk's ImportBatch (the
checkpoint and undo log), so a crash leaves whole chunks only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from guanxi.core.models import AuditAction, AuditEntry, Tag
from guanxi.core.search import FTS_SUFFIX, fts_content
from guanxi.quality.normalize import search_text

from . import services
from .import_kinds import kind_of
from .import_models import ExternalKey, Import, ImportBatch
from .import_rows import Context, Item, contact_text
from .models import Account, Address, Contact, ContactMethod

_ACCOUNT_COLUMNS = ("id", "name", "industry", "size", "classification", "source", "lifecycle_stage", "website",
                    "phone", "email", "description", "search_text", "owner_id", "team_id", "version", "custom",
                    "created_at", "updated_at")
_json = json.JSONEncoder(ensure_ascii=False, default=str).encode  # json.dumps makes an encoder per call
_BATCH_ROWS = 500  # rows per multi-row INSERT on SQLite (999 variables on old builds; we stay well below)


def _allocate_ids(model: type, count: int) -> list[int]:
    """Ids for rows inserted in bulk, so children can point at them without reading them back. SQLite: the
    chunk's transaction already holds the write lock (the ImportBatch row), so max+1… is ours."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, count])
            return [r[0] for r in cursor.fetchall()]
        cursor.execute(f'SELECT MAX(id) FROM "{table}"')
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        return list(range(start, start + count))


def insert_rows(model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # The sqlite3 connection itself (same connection, same transaction): Django's wrapper would rewrite
        # each 10,000-parameter statement's placeholders first.
        raw = connection.connection
        one = "(" + ", ".join(["?"] * len(columns)) + ")"
        for start in range(0, len(rows), _BATCH_ROWS):
            part = rows[start:start + _BATCH_ROWS]
            raw.execute(f'INSERT INTO "{table}" ({cols}) VALUES {", ".join([one] * len(part))}',
                        [v for row in part for v in row])


@contextmanager
def trigger_off(model: type, event: str) -> Iterator[str | None]:
    """SQLite: the search index's row trigger ("ai" insert, "ad" delete) dropped for a bulk statement and
    put back as it was; yields the FTS table to keep up to date in bulk meanwhile (None: nothing to do).

    One INSERT … SELECT into FTS5 for a chunk costs a quarter of what the trigger costs row by row
    (measured: 100k rows, 1.4 s against 5.6 s). Only inside the chunk's transaction: the DDL is part of it,
    SQLite's write lock keeps every other writer out until it commits (with the trigger back), and a
    rollback restores the trigger too."""
    if connection.vendor != "sqlite":
        yield None
        return
    assert connection.in_atomic_block, "the trigger may only be off inside the chunk's transaction"
    fts = model._meta.db_table + FTS_SUFFIX
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [f"{fts}_{event}"])
        found = cursor.fetchone()
        if found is None:
            yield None
            return
        cursor.execute(f'DROP TRIGGER "{fts}_{event}"')
        try:
            yield fts
        finally:
            cursor.execute(found[0])


def insert_searchable(model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """insert_rows for a table with a search index, rows starting with their id: on SQLite the new rows
    are indexed by one statement instead of the per-row trigger."""
    if not rows:
        return
    with trigger_off(model, "ai") as fts:
        insert_rows(model, columns, rows)
        if fts:
            with connection.cursor() as cursor:
                cursor.execute(f'INSERT INTO "{fts}"(rowid, search_text) SELECT "id", "search_text" FROM '
                               f'"{fts_content(model)}" WHERE "id" IN (SELECT value FROM json_each(%s))',
                               [json.dumps([row[0] for row in rows])])


def delete_searchable(model: type, ids: list[int]) -> None:
    """model.objects.filter(pk__in=ids).delete() (cascades included), with the rows taken out of SQLite's
    search index by one statement instead of the per-row trigger."""
    if not ids:
        return
    with trigger_off(model, "ad") as fts:
        if fts:
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO \"{fts}\"(\"{fts}\", rowid, search_text) SELECT 'delete', \"id\", "
                               f'"search_text" FROM "{fts_content(model)}" WHERE "id" IN '
                               f"(SELECT value FROM json_each(%s))", [json.dumps(ids)])
        model.objects.filter(pk__in=ids).delete()


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and out[-1][1] + 1 == i:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def expand_ranges(ranges: list[list[int]]) -> list[int]:
    return [i for first, last in ranges for i in range(first, last + 1)]


class _Writer:
    """Writes one planned chunk inside its transaction and returns what the undo log keeps."""

    def __init__(self, ctx: Context, imp: Import) -> None:
        self.ctx, self.imp = ctx, imp
        self.now = timezone.now()
        self.stamp = connection.ops.adapt_datetimefield_value(self.now)
        self.sqlite = connection.vendor == "sqlite"
        self.ct = ContentType.objects.get_for_model(Contact if ctx.target == "contact" else Account).pk
        self.audits: list[tuple] = []
        self.default_owner = (ctx.actor.pk, ctx.actor.team_id)
        self.actor_id = ctx.actor.pk

    def _date(self, value: dt.date | None) -> Any:
        return None if value is None else (value.isoformat() if self.sqlite else value)

    def _owner(self, item: Item) -> tuple[int | None, int | None]:
        return item.owner or self.default_owner

    def _audit(self, pk: int, repr_: str, action: str, changes: dict, version: int = 1) -> None:
        self.audits.append((self.ct, pk, repr_[:200], self.actor_id, self.stamp, action, _json(changes), version))

    def flush_audits(self) -> None:
        insert_rows(AuditEntry, ("content_type_id", "object_id", "object_repr", "actor_id", "at", "action", "changes",
                             "version"), self.audits)
        self.audits = []

    def tags(self, items: list[Item]) -> dict[str, int]:
        names = {t for it in items for t in it.tags}
        if not names:
            return {}
        have = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        missing = [n for n in names if n not in have]
        if missing:
            Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
            have = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        return have

    def accounts(self, items: list[Item], existing: dict[str, int]) -> list[int]:
        """Companies named by contact rows that the actor cannot see yet: created, owned by the actor."""
        names = list(dict.fromkeys(it.account_name for it in items if it.account_name
                                   and it.account_name not in existing))
        ids = _allocate_ids(Account, len(names))
        owner, team = self.ctx.actor.pk, self.ctx.actor.team_id
        insert_searchable(Account, _ACCOUNT_COLUMNS,
                          [(pk, name, "", "", "", "", "awareness", "", "", "", "", search_text(names=[name]), owner,
                            team, 1, "{}", self.stamp, self.stamp) for pk, name in zip(ids, names, strict=True)])
        ct = ContentType.objects.get_for_model(Account).pk
        self.audits_accounts = [(ct, pk, name[:200], owner, self.stamp, AuditAction.CREATE,
                                 json.dumps({"name": [None, name], "import": [None, self.imp.pk]},
                                            ensure_ascii=False), 1) for pk, name in zip(ids, names, strict=True)]
        existing.update(zip(names, ids, strict=True))
        return ids

    def create(self, items: list[Item], accounts: dict[str, int], tags: dict[str, int]) -> list[int]:
        ids = (_allocate_ids(Contact if self.ctx.target == "contact" else Account, len(items)))
        if self.ctx.target == "contact":
            self._create_contacts(items, ids, accounts, tags)
        else:
            self._create_accounts(items, ids, tags)
        keys = [(self.ctx.target, it.external_id, pk) for it, pk in zip(items, ids, strict=True) if it.external_id]
        insert_rows(ExternalKey, ("target", "key", "object_id"), keys)
        return ids

    def _create_contacts(self, items: list[Item], ids: list[int], accounts: dict[str, int],
                         tags: dict[str, int]) -> None:
        contacts, methods, addresses, links, tag_links = [], [], [], [], []
        for it, pk in zip(items, ids, strict=True):
            c = it.cleaned
            owner, team = self._owner(it)
            ms = c["methods"]
            phone = email = ""
            for m in ms:  # the first of each kind
                if m[0] == "phone":
                    phone = phone or m[2]
                elif m[0] == "email":
                    email = email or m[2]
            account = accounts.get(it.account_name)
            consent = c["marketing_consent"]
            contacts.append((pk, c["name"], c["title"], c["department"], account, phone, email,
                             self._date(c["birthday"]), c["preferred_channel"], consent,
                             self.stamp if consent else None, c["description"],
                             it.search or contact_text(c["name"], ms),
                             owner, team, 1, _json(c["custom"]) if c["custom"] else "{}", self.stamp, self.stamp))
            firsts: set[str] = set()
            for kind, value, normalized, label in ms:
                methods.append((pk, kind, value, normalized, label, kind not in firsts))
                firsts.add(kind)
            for a in c["addresses"]:
                addresses.append((pk, *(a[k] for k in services.ADDRESS_FIELDS)))
            if account:
                links.append((pk, account))
            tag_links.extend((pk, tags[t]) for t in dict.fromkeys(it.tags))
            self._audit(pk, c["name"], AuditAction.CREATE,
                        {k: [None, v] for k, v in (("name", c["name"]), ("phone", phone), ("email", email),
                                                   ("owner_id", owner), ("import", self.imp.pk)) if v})
        insert_searchable(Contact, ("id", "name", "title", "department", "primary_account_id", "phone", "email",
                                    "birthday", "preferred_channel", "marketing_consent", "consent_changed_at",
                                    "description", "search_text", "owner_id", "team_id", "version", "custom",
                                    "created_at", "updated_at"), contacts)
        insert_rows(ContactMethod, ("contact_id", "kind", "value", "normalized", "label", "is_primary"), methods)
        insert_rows(Address, ("contact_id", *services.ADDRESS_FIELDS), addresses)
        insert_rows(Contact.accounts.through, ("contact_id", "account_id"), links)
        insert_rows(Contact.tags.through, ("contact_id", "tag_id"), tag_links)

    def _create_accounts(self, items: list[Item], ids: list[int], tags: dict[str, int]) -> None:
        rows, addresses, tag_links = [], [], []
        for it, pk in zip(items, ids, strict=True):
            c = it.cleaned
            owner, team = self._owner(it)
            rows.append((pk, c["name"], c["industry"], c["size"], c["classification"], c["source"],
                         c["lifecycle_stage"], c["website"], c["phone"], c["email"], c["description"],
                         search_text(names=[c["name"]], phones=[c["phone"]], emails=[c["email"]]), owner, team, 1,
                         json.dumps(c["custom"], ensure_ascii=False), self.stamp, self.stamp))
            for a in c["addresses"]:
                addresses.append((pk, *(a[k] for k in services.ADDRESS_FIELDS)))
            tag_links.extend((pk, tags[t]) for t in dict.fromkeys(it.tags))
            self._audit(pk, c["name"], AuditAction.CREATE,
                        {k: [None, v] for k, v in (("name", c["name"]), ("owner_id", owner),
                                                   ("import", self.imp.pk)) if v})
        insert_searchable(Account, _ACCOUNT_COLUMNS, rows)
        insert_rows(Address, ("account_id", *services.ADDRESS_FIELDS), addresses)
        insert_rows(Account.tags.through, ("account_id", "tag_id"), tag_links)

    def update(self, items: list[Item], accounts: dict[str, int], tags: dict[str, int]) -> list[list]:
        """Fill in what the row gives; phones, emails, addresses, companies and tags are added, never
        removed. Returns the undo log: [id, {column: before}, {"methods"|"addresses"|…: [added]}]."""
        contact = self.ctx.target == "contact"
        model = Contact if contact else Account
        plain = services.CONTACT_FIELDS if contact else services.ACCOUNT_FIELDS
        ids = [it.target_id for it in items]
        current = {r["id"]: r for r in model.objects.filter(pk__in=ids).values(
            "id", "version", "search_text", "custom", "owner_id", "team_id", "phone", "email", *plain,
            *(("primary_account_id",) if contact else ()))}
        methods: dict[int, list[tuple]] = {}
        if contact:
            for row in ContactMethod.objects.filter(contact_id__in=ids).order_by("contact_id", "-is_primary", "id") \
                    .values_list("contact_id", "kind", "value", "normalized", "label"):
                methods.setdefault(row[0], []).append(row[1:])
        link = "contact_id" if contact else "account_id"
        have_addr = {(r[0], *r[1:]) for r in Address.objects.filter(**{f"{link}__in": ids}).values_list(
            link, *services.ADDRESS_FIELDS)}
        have_tags = set(model.tags.through.objects.filter(**{f"{link}__in": ids}).values_list(link, "tag_id"))
        have_links = set(Contact.accounts.through.objects.filter(contact_id__in=ids).values_list(
            "contact_id", "account_id")) if contact else set()
        log_rows: list[list] = []
        updates: list[tuple] = []
        new_methods, new_addresses, new_tags, new_links = [], [], [], []
        columns = [*plain, "phone", "email", "custom", "owner_id", "team_id", "search_text",
                   *(("primary_account_id", "consent_changed_at") if contact else ())]
        for it in items:
            before = current[it.target_id]
            after = dict(before)
            c = it.cleaned
            for name in plain:
                key = "notes" if name == "description" else name
                if key in it.provided and c.get(name) != before[name]:
                    after[name] = c[name]
            if c["custom"]:
                after["custom"] = {**(before["custom"] or {}), **c["custom"]}
            if it.owner:
                after["owner_id"], after["team_id"] = it.owner
            added: dict[str, list] = {}
            pk = it.target_id
            if contact:
                have = methods.get(pk, [])
                seen = {(m[0], m[2]) for m in have}
                fresh = [m for m in c["methods"] if (m[0], m[2]) not in seen]
                firsts = {m[0] for m in have}
                for kind, value, normalized, label in fresh:
                    new_methods.append((pk, kind, value, normalized, label, kind not in firsts))
                    firsts.add(kind)
                all_methods = [(m[0], m[1], m[2], m[3]) for m in have] + list(fresh)
                after["phone"] = before["phone"] or next((m[2] for m in all_methods if m[0] == "phone"), "")
                after["email"] = before["email"] or next((m[2] for m in all_methods if m[0] == "email"), "")
                added["methods"] = [[m[0], m[2]] for m in fresh]
                account = accounts.get(it.account_name)
                if account and (pk, account) not in have_links:
                    new_links.append((pk, account))
                    added["accounts"] = [account]
                    if not before["primary_account_id"]:
                        after["primary_account_id"] = account
                if "marketing_consent" in it.provided and after["marketing_consent"] != before["marketing_consent"]:
                    after["consent_changed_at"] = self.now
                else:
                    after["consent_changed_at"] = None
                after["search_text"] = contact_text(after["name"], all_methods)
            else:
                for key in ("phone", "email"):
                    if key in it.provided and c[key]:
                        after[key] = c[key]
                after["search_text"] = search_text(names=[after["name"]], phones=[after["phone"]],
                                                   emails=[after["email"]])
            fresh_addr = [a for a in c["addresses"]
                          if (pk, *(a[k] for k in services.ADDRESS_FIELDS)) not in have_addr]
            for a in fresh_addr:
                new_addresses.append((pk, *(a[k] for k in services.ADDRESS_FIELDS)))
            if fresh_addr:
                added["addresses"] = len(fresh_addr)
            fresh_tags = [tags[t] for t in dict.fromkeys(it.tags) if (pk, tags[t]) not in have_tags]
            new_tags.extend((pk, t) for t in fresh_tags)
            if fresh_tags:
                added["tags"] = fresh_tags
            changed = {k: [before[k], after[k]] for k in columns if k in before and after[k] != before[k]}
            if not changed and not any(added.values()):
                continue
            if contact and "consent_changed_at" not in changed:
                after["consent_changed_at"] = None
            log_rows.append([pk, {k: _jsonable(before[k]) for k in changed}, {k: v for k, v in added.items() if v}])
            updates.append((pk, after))
            audit = {k: v for k, v in changed.items() if k not in ("search_text", "team_id", "consent_changed_at")}
            for key, value in added.items():
                if value and key != "accounts":
                    audit[f"added {key}"] = [None, value]
            audit["import"] = [None, self.imp.pk]
            self._audit(pk, after["name"], AuditAction.UPDATE, _jsonable(audit), before["version"] + 1)
        if updates:
            self._write_updates(model, updates, columns, contact)
        if new_methods:
            insert_rows(ContactMethod, ("contact_id", "kind", "value", "normalized", "label", "is_primary"),
                        new_methods)
        insert_rows(Address, (link, *services.ADDRESS_FIELDS), new_addresses)
        insert_rows(model.tags.through, (link, "tag_id"), new_tags)
        if new_links:
            insert_rows(Contact.accounts.through, ("contact_id", "account_id"), new_links)
        return log_rows

    def _write_updates(self, model: type, updates: list[tuple], columns: list[str], contact: bool) -> None:
        cols = [c for c in columns if c != "consent_changed_at"]
        sets = ", ".join(f'"{c}" = %s' for c in cols)
        consent = ', "consent_changed_at" = COALESCE(%s, "consent_changed_at")' if contact else ""
        sql = f'UPDATE "{model._meta.db_table}" SET {sets}{consent}, "version" = "version" + 1, ' \
              f'"updated_at" = %s WHERE "id" = %s'
        params = []
        for pk, after in updates:
            values = [json.dumps(after[c], ensure_ascii=False) if c == "custom" else
                      self._date(after[c]) if c == "birthday" else after[c] for c in cols]
            if contact:
                values.append(connection.ops.adapt_datetimefield_value(after["consent_changed_at"]))
            params.append((*values, self.stamp, pk))
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _cells(ctx: Context, item: Item) -> list[str]:
    return [item.cells.get(h, "") for h in ctx.headers]


def write_chunk(ctx: Context, imp: Import, number: int, items: list[Item], accounts: dict[str, int]) -> dict:
    """One transaction: the chunk's records, its ImportBatch and the import's checkpoint and counters."""
    with transaction.atomic():
        batch = ImportBatch.objects.create(run=imp, number=number)  # a second run of this chunk fails here
        fresh = [it for it in items if it.action == "new"]
        changes = [it for it in items if it.action == "update"]
        kind = kind_of(ctx.target)
        created_accounts: list[int] = []
        if kind is not None:
            created, updated = kind.write(ctx, imp, fresh, changes)
        else:
            writer = _Writer(ctx, imp)
            created_accounts = writer.accounts(fresh + changes, accounts) if ctx.target == "contact" else []
            tags = writer.tags(fresh + changes)
            created = writer.create(fresh, accounts, tags)
            updated = writer.update(changes, accounts, tags) if changes else []
            writer.audits.extend(getattr(writer, "audits_accounts", []))
            writer.flush_audits()
        batch.created_ids = id_ranges(created)
        batch.created_accounts = id_ranges(created_accounts)
        batch.updated = updated
        batch.rejected = [[it.line, _cells(ctx, it), it.errors] for it in items if it.action == "reject"]
        batch.flagged = [[it.line, _cells(ctx, it), it.target_id, it.reason] for it in items if it.action == "flag"]
        batch.save(update_fields=["created_ids", "created_accounts", "updated", "rejected", "flagged"])
        counts = {"rows": len(items), "created": len(created), "updated": len(updated),
                  "rejected": len(batch.rejected), "flagged": len(batch.flagged)}
        Import.objects.filter(pk=imp.pk).update(checkpoint=number + 1, **{k: F(k) + v for k, v in counts.items()})
    return counts
