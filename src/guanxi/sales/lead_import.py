"""Leads in the import pipeline of guanxi.customers (upload → mapping → preview → job → rejected rows → undo).

What is a lead's own: its columns (mapped from 姓名, 公司, 手机, 邮箱, 来源… by customers.fileio.mapping), cleaning by
the same rules as the lead form and API (lead_services.clean_lead_values), the match key (email or phone, both
normalised: a row for a lead that exists updates it instead of duplicating it), possible duplicates (same email
or phone as a lead the importer can see, or as an earlier row), the assignment rules for rows that name no
owner, and writing and undoing a chunk. A fixed number of queries per chunk; nothing per row.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities import services as activity_services
from guanxi.core.customfields import clean_values
from guanxi.core.models import AuditAction, AuditEntry, User
from guanxi.core.records import creation_changes, diff, field_defs, snapshot
from guanxi.core.services import assignable_users
from guanxi.customers.fileio import Row
from guanxi.customers.import_jobs import restore
from guanxi.customers.import_kinds import ImportKind
from guanxi.customers.import_models import Import, ImportBatch
from guanxi.customers.import_plan import any_of
from guanxi.customers.import_rows import Context, Item, _choice_table, _column_of, _to_data
from guanxi.customers.import_writer import expand_ranges

from . import assignment
from .lead_models import Lead, LeadAssignmentRule, LeadStatus
from .lead_services import AUDITED, assignment_rules, clean_lead_values, follow_up_error
from .lead_services import LEAD_FIELDS as MODEL_FIELDS

MATCH_KEYS = ("email", "phone")
_CHOICES = ("source", "industry", "rating")
_COLUMNS = (*MODEL_FIELDS, "phone", "email")  # what a row can set on a lead (notes → description)


def load(actor: User, imp: Import) -> Context:
    mapping = {h: imp.mapping.get(h) for h in imp.headers}
    owners = {}
    if "owner" in mapping.values():
        owners = {u.username.lower(): (u.pk, u.team_id) for u in assignable_users(actor).only("username", "team_id")}
    return Context(actor=actor, target="lead", mapping=mapping, match_key=imp.match_key, defs=field_defs("lead"),
                   owners=owners, choices={n: _choice_table(Lead, n) for n in _CHOICES},
                   by_field={f: h for h, f in mapping.items() if f}, headers=list(imp.headers))


def _prepare_one(ctx: Context, row: Row) -> Item:
    it = _to_data(ctx, row)
    data = it.data
    for address in data.pop("addresses", []):  # a lead keeps province and city only
        for part in ("province", "city"):
            if address.get(part):
                data[part], it.sources[part] = address[part], ctx.by_field.get(part, "")
    custom = data.pop("custom", {})
    names = [n for n in _COLUMNS if n in data]
    cleaned, errors = clean_lead_values({n: data[n] for n in names}, partial=True)
    cleaned["custom"], errs = clean_values(ctx.defs, custom, partial=False, current={})
    errors.update(errs)
    for key, messages in errors.items():
        it.errors.setdefault(_column_of(it, key), []).extend(str(m) for m in messages)
    it.cleaned = cleaned
    it.provided = {n for n in names if data[n] not in ("", None)}
    if not cleaned.get("name"):
        it.missing.append(str(Lead._meta.get_field("name").verbose_name))
    if it.errors:
        it.action = "reject"
    it.data, it.sources = {}, {}
    return it


def prepare(ctx: Context, rows: list[Row]) -> list[Item]:
    """Cells → the lead's cleaned fields, errors under the column they came from. No database."""
    return [_prepare_one(ctx, row) for row in rows]


def _existing(ctx: Context, items: list[Item]) -> tuple[dict[tuple[str, str], list[tuple[int, str]]], set[int]]:
    """Leads the importer can see with a chunk's emails or phones: {(key, value): [(id, status)]}, and which of
    them the importer may change. Two queries."""
    values = {key: {it.cleaned[key] for it in items if it.cleaned.get(key)} for key in MATCH_KEYS}
    rule = Q()
    for key, found in values.items():
        if found:
            rule |= Q(**{f"{key}__in": any_of(found)})
    if not rule:
        return {}, set()
    known: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for pk, email, phone, status in Lead.objects.visible_to(ctx.actor).filter(rule).order_by("pk").values_list(
            "pk", "email", "phone", "status"):
        for key, value in (("email", email), ("phone", phone)):
            if value and value in values[key]:
                known.setdefault((key, value), []).append((pk, status))
    ids = {pk for hits in known.values() for pk, _status in hits}
    if ctx.actor.is_administrator or not ids:
        return known, ids
    return known, set(Lead.objects.editable_by(ctx.actor).filter(pk__in=any_of(ids, integers=True))
                      .values_list("pk", flat=True))


def _match(ctx: Context, it: Item, hits: list[tuple[int, str]], editable: set[int], claimed: dict[int, int]) -> None:
    key = ctx.match_key
    if len(hits) > 1:
        it.action, it.reason = "flag", _("Several leads have this %(key)s: %(ids)s.") % {
            "key": key, "ids": ", ".join(str(pk) for pk, _s in hits[:5])}
        return
    pk, status = hits[0]
    it.target_id = pk
    if status == LeadStatus.CONVERTED:
        it.action, it.reason = "flag", _("Lead %(id)s with this %(key)s was converted; change its account or "
                                         "contact instead.") % {"id": pk, "key": key}
    elif pk not in editable:
        it.action, it.reason = "flag", _("You may not change lead %(id)s, which has this %(key)s.") % {
            "id": pk, "key": key}
    elif pk in claimed:
        it.action, it.reason = "flag", _("Line %(line)s of this file also updates this record.") % {
            "line": claimed[pk]}
    else:
        it.action = "update"
        claimed[pk] = it.line


def decide(ctx: Context, items: list[Item]) -> list[Item]:
    """Update (the match key found one lead), new, reject (a new lead without name or a way to reach it) or flag
    (several matches, a converted or foreign lead, a possible duplicate of a lead or of an earlier row)."""
    valid = [it for it in items if it.action != "reject"]
    known, editable = _existing(ctx, valid)
    claimed: dict[int, int] = {}
    seen: dict[tuple[str, str], int] = {}
    same = {"email": _("same email"), "phone": _("same phone")}
    for it in valid:
        keys = [(k, it.cleaned[k]) for k in MATCH_KEYS if it.cleaned.get(k)]
        hits = known.get((ctx.match_key, it.cleaned.get(ctx.match_key) or ""), []) if ctx.match_key else []
        if hits:
            _match(ctx, it, hits, editable, claimed)
        else:
            for key in keys:
                if key in known:
                    it.action, it.target_id = "flag", known[key][0][0]
                    it.reason = _("Possible duplicate of record %(id)s (%(why)s).") % {
                        "id": known[key][0][0], "why": same[key[0]]}
                    break
                if key in seen:
                    it.action = "flag"
                    it.reason = _("Possible duplicate of line %(line)s of this file (%(why)s).") % {
                        "line": seen[key], "why": same[key[0]]}
                    break
        for key in keys:
            seen.setdefault(key, it.line)
        if it.action != "new":
            continue
        if it.missing:
            it.action = "reject"
            it.errors.setdefault("", []).append(_("Required for a new record: %(fields)s.") % {
                "fields": ", ".join(it.missing)})
        elif not (it.cleaned.get("phone") or it.cleaned.get("email") or it.cleaned.get("company")):
            it.action = "reject"
            it.errors.setdefault("", []).append(follow_up_error())
    return items


def _assign(items: list[Item]) -> dict[int, int]:
    """The assignment rules for new leads that name no owner, in file order (round-robin goes on from the
    rules' last rep, as for leads created one by one); the rules are locked meanwhile. {line: rule id}."""
    pending = [it for it in items if it.owner is None]
    if not pending or not LeadAssignmentRule.objects.select_for_update().filter(active=True).exists():
        return {}
    rules = assignment_rules()
    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    teams = dict(User.objects.filter(pk__in={m for r in rules for m in r.members}).values_list("pk", "team_id"))
    by_line: dict[int, int] = {}
    turns: dict[int, int] = {}
    for it in pending:
        c = it.cleaned
        choice = assignment.pick(rules, {"source": c.get("source", ""), "industry": c.get("industry", ""),
                                         "province": c.get("province", "")}, active)
        if choice is None:
            continue
        it.owner = (choice.user_id, teams.get(choice.user_id))
        by_line[it.line] = choice.rule_id
        turns[choice.rule_id] = choice.user_id
        rules = [dataclasses.replace(r, last_user_id=choice.user_id) if r.id == choice.rule_id else r for r in rules]
    for rule_id, user_id in turns.items():
        LeadAssignmentRule.objects.filter(pk=rule_id).update(last_user_id=user_id)
    return by_line


def _audit(ct: ContentType, lead: Lead, actor: User, action: str, changes: dict, version: int) -> AuditEntry:
    return AuditEntry(content_type=ct, object_id=lead.pk, object_repr=str(lead)[:200], actor=actor, action=action,
                      changes=changes, version=version)


def write(ctx: Context, imp: Import, fresh: list[Item], changes: list[Item]) -> tuple[list[int], list[list]]:
    """The chunk's new leads (owners from the row, else the rules, else the importer) and its updates (only the
    fields the row gives), audited; returns the new ids and the undo log."""
    actor, ct, now = ctx.actor, ContentType.objects.get_for_model(Lead), timezone.now()
    rules = _assign(fresh)
    leads = []
    for it in fresh:
        c = it.cleaned
        owner, team = it.owner or (actor.pk, actor.team_id)
        leads.append(Lead(**{n: c.get(n, "") for n in _COLUMNS}, custom=c["custom"], owner_id=owner, team_id=team,
                          assigned_by_rule_id=rules.get(it.line)))
    Lead.objects.bulk_create(leads, batch_size=500)
    audits = [_audit(ct, lead, actor, AuditAction.CREATE, {**creation_changes(lead, AUDITED), "import": [None, imp.pk]},
                     1) for lead in leads]
    current = Lead.objects.in_bulk([it.target_id for it in changes])
    log: list[list] = []
    dirty: list[Lead] = []
    columns: set[str] = set()
    for it in changes:
        lead, c = current[it.target_id], it.cleaned
        before = snapshot(lead, AUDITED)
        old: dict[str, Any] = {}
        for name in it.provided:
            if getattr(lead, name) != c[name]:
                old[name] = getattr(lead, name)
                setattr(lead, name, c[name])
        if c["custom"] and {**lead.custom, **c["custom"]} != lead.custom:
            old["custom"], lead.custom = lead.custom, {**lead.custom, **c["custom"]}
        if it.owner and it.owner[0] != lead.owner_id:
            old["owner_id"], old["team_id"] = lead.owner_id, lead.team_id
            lead.owner_id, lead.team_id = it.owner
        if not old:
            continue
        lead.version += 1
        lead.updated_at = now
        columns.update(old)
        dirty.append(lead)
        log.append([lead.pk, old, {}])
        audits.append(_audit(ct, lead, actor, AuditAction.UPDATE,
                             {**diff(before, snapshot(lead, AUDITED)), "import": [None, imp.pk]}, lead.version))
    if dirty:
        Lead.objects.bulk_update(dirty, [*sorted(columns), "version", "updated_at"], batch_size=500)
    AuditEntry.objects.bulk_create(audits, batch_size=500)
    return [lead.pk for lead in leads], log


def undo(imp: Import, batch: ImportBatch, actor: User) -> None:
    """The chunk's new leads deleted, its updated ones given their earlier values back; audited."""
    ct = ContentType.objects.get_for_model(Lead)
    with transaction.atomic():
        if not ImportBatch.objects.filter(pk=batch.pk, undone=False).update(undone=True):
            return  # undone by an earlier run of this job
        restore(Lead, batch.updated)
        audits = [AuditEntry(content_type=ct, object_id=pk, actor=actor, action=AuditAction.UPDATE,
                             changes={**{k: ["", v] for k, v in before.items()}, "undo import": [imp.pk, None]})
                  for pk, before, _added in batch.updated]
        created = Lead.objects.filter(pk__in=any_of(expand_ranges(batch.created_ids), integers=True))
        audits += [AuditEntry(content_type=ct, object_id=pk, object_repr=name[:200], actor=actor,
                              action=AuditAction.DELETE, changes={"undo import": [imp.pk, None]})
                   for pk, name in created.values_list("pk", "name")]
        activity_services.detach_leads(created)  # a lead converted since keeps its history on the customer
        created.delete()
        AuditEntry.objects.bulk_create(audits, batch_size=500)


KIND = ImportKind(match_keys=MATCH_KEYS, load=load, prepare=prepare, decide=decide, write=write, undo=undo)
