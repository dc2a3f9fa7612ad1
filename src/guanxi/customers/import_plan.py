"""A chunk of cleaned rows decided: update (a match key found the record), new, or flagged as a possible
duplicate, with a fixed number of queries per chunk, never one per row. Nothing is written here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from guanxi.quality.field_rules import rule_fields as rule_fields_of

from . import services
from .fileio import Row
from .import_kinds import kind_of
from .import_models import ExternalKey
from .import_rows import Context, Item, prepare
from .models import Account, Contact, ContactMethod

MATCH_KEYS = ("email", "phone", "external_id")


def any_of(values: Iterable[Any], integers: bool = False) -> RawSQL:
    """The right side of `__in` for a chunk's thousands of values as one parameter (a JSON array on
    SQLite, an array on PostgreSQL): Django prepares an `__in` list value by value, 4 s of every 40k
    rows at 1M."""
    values = list(values)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{'bigint' if integers else 'text'}[])", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values, ensure_ascii=False)])


def _match_value(ctx: Context, item: Item) -> str | None:
    key, c = ctx.match_key, item.cleaned
    if key == "email":
        return next((m[2] for m in c.get("methods", []) if m[0] == "email"), None) if ctx.target == "contact" \
            else (c.get("email") or None)
    if key == "phone":
        return next((m[2] for m in c.get("methods", []) if m[0] == "phone"), None) if ctx.target == "contact" \
            else (c.get("phone") or None)
    if key == "external_id":
        return item.external_id or None
    if key.startswith("custom."):
        value = c.get("custom", {}).get(key[7:])
        return None if value in (None, "") else value
    return None


def _visible_ids(ctx: Context, model: type) -> Any:
    """A subquery of the ids the actor may edit, or None when that is every row (an administrator)."""
    return None if ctx.actor.is_administrator else model.objects.editable_by(ctx.actor).values("pk")


def _find_matches(ctx: Context, items: list[Item]) -> dict[Any, list[int]]:
    values = {v for it in items if (v := _match_value(ctx, it)) is not None}
    if not values:
        return {}
    model = Contact if ctx.target == "contact" else Account
    visible = _visible_ids(ctx, model)
    found: dict[Any, list[int]] = {}
    key = ctx.match_key
    if key in ("email", "phone") and ctx.target == "contact":
        qs = ContactMethod.objects.filter(kind=key, normalized__in=any_of(values))
        if visible is not None:
            qs = qs.filter(contact_id__in=visible)
        pairs = qs.values_list("normalized", "contact_id")
    elif key in ("email", "phone"):
        qs = model.objects.filter(**{f"{key}__in": values})
        pairs = (qs if visible is None else qs.filter(pk__in=visible)).values_list(key, "pk")
    elif key == "external_id":
        qs = ExternalKey.objects.filter(target=ctx.target, key__in=any_of(values))
        if visible is not None:
            qs = qs.filter(object_id__in=visible)
        pairs = qs.values_list("key", "object_id")
    else:
        name = key[7:]
        qs = model.objects.filter(**{f"custom__{name}__in": list(values)})
        rows = (qs if visible is None else qs.filter(pk__in=visible)).values_list("pk", "custom")
        pairs = [(c.get(name), pk) for pk, c in rows]
    for value, pk in pairs:
        if pk not in found.setdefault(value, []):
            found[value].append(pk)
    return found


def _resolve_accounts(ctx: Context, items: list[Item]) -> dict[str, int]:
    names = {it.account_name for it in items if it.account_name}
    if not names:
        return {}
    qs = Account.objects.visible_to(ctx.actor).filter(name__in=any_of(names)).order_by("pk").values_list("name",
                                                                                                 "pk")
    found: dict[str, int] = {}
    for name, pk in qs:
        found.setdefault(name, pk)
    return found


def _flag_duplicates(ctx: Context, items: list[Item], accounts: dict[str, int]) -> None:
    """Rows without a match-key hit that look like a record the actor can see, or like an earlier row
    of the same chunk: same normalised phone or email, or same name (pinyin) at the same company."""
    fresh = [it for it in items if it.action == "new"]
    if not fresh:
        return
    visible = None if ctx.actor.is_administrator else \
        (Contact if ctx.target == "contact" else Account).objects.visible_to(ctx.actor).values("pk")
    known: dict[tuple[str, Any], int] = {}
    if ctx.target == "contact":
        keys = {(m[0], m[2]) for it in fresh for m in it.cleaned["methods"]}
        if keys:
            # kind as well: the index is (kind, normalized); without it every chunk scans the whole table
            qs = ContactMethod.objects.filter(kind__in={k[0] for k in keys},
                                              normalized__in=any_of({k[1] for k in keys}))
            if visible is not None:
                qs = qs.filter(contact_id__in=visible)
            for kind, normalized, pk in qs.values_list("kind", "normalized", "contact_id"):
                known.setdefault((kind, normalized), pk)
        account_ids = {accounts[it.account_name] for it in fresh if it.account_name in accounts}
        if account_ids:
            qs = Contact.objects.filter(primary_account_id__in=any_of(account_ids, integers=True))
            if visible is not None:
                qs = qs.filter(pk__in=visible)
            cached = ctx.name_keys  # thousands of rows a chunk late in a big import: the cache first
            for pk, name, account_id in qs.values_list("pk", "name", "primary_account_id"):
                known.setdefault(("name", (cached.get(name) or ctx.name_key(name), account_id)), pk)
    else:
        names = {it.cleaned.get("name", "") for it in fresh}
        phones = {it.cleaned["phone"] for it in fresh if it.cleaned.get("phone")}
        emails = {it.cleaned["email"] for it in fresh if it.cleaned.get("email")}
        qs = Account.objects.filter(name__in=names) | Account.objects.filter(phone__in=phones) | \
            Account.objects.filter(email__in=emails)
        if visible is not None:
            qs = qs.filter(pk__in=visible)
        for pk, name, phone, email in qs.values_list("pk", "name", "phone", "email"):
            known.setdefault(("name", name.lower()), pk)
            if phone:
                known.setdefault(("phone", phone), pk)
            if email:
                known.setdefault(("email", email), pk)
    seen: dict[tuple[str, Any], int] = {}
    reasons = {"phone": _("same phone"), "email": _("same email"), "name": _("same name at the same company")}
    for it in fresh:
        if ctx.target == "contact":
            keys = [(m[0], m[2]) for m in it.cleaned["methods"]]
            account = accounts.get(it.account_name) or (("new", it.account_name) if it.account_name else None)
            if account is not None:
                keys.append(("name", (ctx.name_key(it.cleaned["name"], it.name_key), account)))
        else:
            keys = [("name", it.cleaned["name"].lower())] + \
                [(k, it.cleaned[k]) for k in ("phone", "email") if it.cleaned.get(k)]
        for key in keys:
            if key in known:
                it.action, it.target_id = "flag", known[key]
                it.reason = _("Possible duplicate of record %(id)s (%(why)s).") % {"id": known[key],
                                                                                  "why": reasons[key[0]]}
                break
            if key in seen:
                it.action = "flag"
                it.reason = _("Possible duplicate of line %(line)s of this file (%(why)s).") % {
                    "line": seen[key], "why": reasons[key[0]]}
                break
        for key in keys:
            seen.setdefault(key, it.line)


def plan_chunk(ctx: Context, rows: list[Row]) -> tuple[list[Item], dict[str, int]]:
    """Every row of the chunk cleaned and decided (new, update, reject, flag), with a fixed number of
    queries; nothing is written. Returns the items and the existing companies by name."""
    return decide(ctx, prepare(ctx, rows))


def decide(ctx: Context, items: list[Item]) -> tuple[list[Item], dict[str, int]]:
    """Match keys, companies and possible duplicates for cleaned items: a fixed number of queries."""
    kind = kind_of(ctx.target)
    if kind is not None:
        return kind.decide(ctx, items), {}
    valid = [it for it in items if it.action != "reject"]
    if ctx.match_key:
        matches = _find_matches(ctx, valid)
        claimed: dict[int, int] = {}
        for it in valid:
            value = _match_value(ctx, it)
            hits = matches.get(value, []) if value is not None else []
            if len(hits) > 1:
                it.action, it.reason = "flag", _("Several records have this %(key)s: %(ids)s.") % {
                    "key": ctx.match_key, "ids": ", ".join(map(str, hits[:5]))}
            elif hits:
                if hits[0] in claimed:  # two rows for one record: the second is for a person to look at
                    it.action, it.target_id = "flag", hits[0]
                    it.reason = _("Line %(line)s of this file also updates this record.") % {"line": claimed[hits[0]]}
                else:
                    it.action, it.target_id = "update", hits[0]
                    claimed[hits[0]] = it.line
    accounts = _resolve_accounts(ctx, valid) if ctx.target == "contact" else {}
    _flag_duplicates(ctx, valid, accounts)
    for it in valid:
        if it.action == "new" and it.missing:
            it.action = "reject"
            it.errors.setdefault("", []).append(_("Required for a new record: %(fields)s.") % {
                "fields": ", ".join(it.missing)})
    if ctx.hold_sensitive:
        _flag_sensitive(ctx, [it for it in valid if it.action == "update"])
    return items, accounts


def _flag_sensitive(ctx: Context, items: list[Item]) -> None:
    """Updates that would change a sensitive field are left for an approver: flagged (in the rejected-rows
    file with the reason), the record untouched. One query for the chunk's records."""
    if not items or ctx.rules is None:
        return
    contact = ctx.target == "contact"
    model = Contact if contact else Account
    sensitive = ctx.rules.sensitive
    plain = [n for n in (services.CONTACT_FIELDS if contact else services.ACCOUNT_FIELDS) if n in sensitive]
    current = {r["id"]: r for r in model.objects.filter(pk__in=any_of([it.target_id for it in items], True))
               .values("id", "owner_id", "phone", "email", "custom", *plain)}
    held_methods: dict[int, set[str]] = {}
    if contact and sensitive & {"phone", "email"}:
        for pk, value in ContactMethod.objects.filter(
                contact_id__in=any_of([it.target_id for it in items], True)).values_list("contact_id", "normalized"):
            held_methods.setdefault(pk, set()).add(value)
    labels = {f.key: str(f.label) for f in rule_fields_of(ctx.target)}
    for it in items:
        before, c, changed = current[it.target_id], it.cleaned, []
        for name in plain:
            if ("notes" if name == "description" else name) in it.provided and c.get(name) != before[name]:
                changed.append(name)
        for name in ("phone", "email"):
            if name not in sensitive:
                continue
            if contact:
                new = {m[2] for m in c.get("methods", []) if m[0] == name}
                if new - held_methods.get(it.target_id, set()):
                    changed.append(name)
            elif c.get(name) and c.get(name) != before[name]:
                changed.append(name)
        if "owner" in sensitive and it.owner is not None and it.owner[0] != before["owner_id"]:
            changed.append("owner")
        for key, value in (c.get("custom") or {}).items():
            if f"custom.{key}" in sensitive and (before["custom"] or {}).get(key) != value:  # only given keys
                changed.append(f"custom.{key}")
        for name, given in (("address", bool(c.get("addresses"))), ("tags", bool(it.tags)),
                            ("accounts", bool(it.account_name))):
            if name in sensitive and given:
                changed.append(name)
        if changed:
            it.action = "flag"
            it.reason = _("Changes sensitive fields (%(fields)s): an administrator or manager must import this "
                          "row.") % {"fields": ", ".join(labels.get(n, n) for n in changed)}
