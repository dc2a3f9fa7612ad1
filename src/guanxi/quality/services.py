"""Duplicates use cases: the on-entry check, the review queue, merge and undo.

Merge relinks generically: every row that points at the merged-away record — a foreign key found through
`_meta` (hidden ones and M2M through tables included) or a content-type + object-id reference (shares, audit
entries) — is moved to the survivor, so models added later (orders, tickets, emails) follow without code
changes here. Rows that would then be twice on the survivor (the same tag, phone, address, share) are
deleted instead and kept in the merge record. The merged-away record is deleted, not flagged: a flag would
have to be excluded by every list, search, report and API of every app, for ever; the merge record keeps
all of it (its columns and every row deleted or moved) and undo puts it back with its own id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import require_editor
from guanxi.core.models import AuditAction, User
from guanxi.core.records import check_version, diff, snapshot, write_audit
from guanxi.core.search import matching
from guanxi.customers.models import Account, Contact, ContactMethod, ContactMethodKind
from guanxi.customers.services import ACCOUNT_AUDITED, CONTACT_AUDITED
from guanxi.quality.compare import name_forms, prepare_company
from guanxi.quality.normalize import NormalizationError, clean_text, normalize_email, normalize_phone, search_text

from .field_rules import may_change_sensitive, rules_for
from .models import DuplicatePair, Merge, PairSource, PairStatus, RecordKind

MODELS: dict[str, type[models.Model]] = {RecordKind.CONTACT: Contact, RecordKind.ACCOUNT: Account}
AUDITED = {RecordKind.CONTACT: CONTACT_AUDITED, RecordKind.ACCOUNT: ACCOUNT_AUDITED}
# The fields whose surviving value the user chooses (custom fields are added per key).
CHOOSABLE = {
    RecordKind.CONTACT: ["name", "title", "department", "birthday", "preferred_channel", "marketing_consent",
                         "description", "phone", "email", "primary_account_id", "owner_id"],
    RecordKind.ACCOUNT: ["name", "industry", "size", "classification", "source", "lifecycle_stage", "website",
                         "phone", "email", "description", "parent_id", "owner_id"],
}
SURVIVOR, MERGED = "survivor", "merged"
# Rows that are the same thing when these columns agree (besides the one pointing at the record); rows with a
# unique constraint over the pointing column (M2M through tables) use that constraint's other columns.
IDENTICAL_WHEN = {
    "customers.ContactMethod": ("kind", "normalized"),
    "customers.Address": ("kind", "country", "province", "city", "district", "street", "postcode"),
    "core.Share": ("user_id", "team_id"),
}
ENTRY_LIMIT = 5
ENTRY_KEEP = 0.75  # an on-entry match this strong goes to the review queue when the new record is saved


def model_for(kind: str) -> type[models.Model]:
    if kind not in MODELS:
        raise ValidationError({"kind": [_("Choose contact or account.")]})
    return MODELS[kind]


# ---------------------------------------------------------------- values to and from JSON

def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def dump_row(obj: models.Model) -> dict[str, Any]:
    """Every column of a row, JSON-ready, by attname (owner_id, not owner)."""
    return {f.attname: _json(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def _load(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for f in model._meta.concrete_fields:
        if f.attname in data:
            value = data[f.attname]
            out[f.attname] = value if isinstance(f, models.JSONField) or value is None else f.to_python(value)
    return out


def _insert_raw(model: type[models.Model], data: dict[str, Any]) -> models.Model:
    """Insert a row exactly as dumped: its id and its timestamps (raw skips auto_now)."""
    obj = model(**_load(model, data))
    obj.save_base(raw=True, force_insert=True)
    return obj


# ---------------------------------------------------------------- what points at a record

@dataclass(frozen=True)
class Reference:
    model: type[models.Model]
    column: str  # attname holding the record's id
    content_type: ContentType | None = None  # for content-type + object-id references

    @property
    def label(self) -> str:
        return self.model._meta.label

    def rows(self, pk: int) -> models.QuerySet:
        qs = self.model._base_manager.filter(**{self.column: pk})
        if self.content_type is not None:
            qs = qs.filter(**{self._ct_column: self.content_type.pk})
        return qs

    @property
    def _ct_column(self) -> str:
        return _generic_columns(self.model)[0]

    def identity(self) -> tuple[str, ...]:
        if self.label in IDENTICAL_WHEN:
            return IDENTICAL_WHEN[self.label]
        name = self.model._meta.get_field(self.column).name if self.content_type is None else self.column
        sets = [tuple(c.fields) for c in self.model._meta.constraints if isinstance(c, models.UniqueConstraint)]
        sets += [tuple(t) for t in self.model._meta.unique_together]
        for fields in sets:
            if name in fields:
                others = [self.model._meta.get_field(f).attname for f in fields if f != name]
                return tuple(o for o in others if o != self._ct_column_or_none())
        return ()

    def _ct_column_or_none(self) -> str | None:
        return self._ct_column if self.content_type is not None else None


def _generic_columns(model: type[models.Model]) -> tuple[str, str] | None:
    """(content-type column, object-id column) of a model that refers to any record that way."""
    for f in model._meta.private_fields:
        if isinstance(f, GenericForeignKey):
            ct = model._meta.get_field(f.ct_field)
            return ct.attname, model._meta.get_field(f.fk_field).attname
    try:
        ct = model._meta.get_field("content_type")
        oid = model._meta.get_field("object_id")
    except Exception:
        return None
    if getattr(ct, "related_model", None) is ContentType and isinstance(oid, models.IntegerField):
        return ct.attname, oid.attname
    return None


def references(model: type[models.Model]) -> list[Reference]:
    """Everything that can point at a `model` row: reverse FKs (hidden and through tables too), generic refs."""
    refs = [
        Reference(rel.related_model, rel.field.attname)
        for rel in model._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
    ]
    ct = ContentType.objects.get_for_model(model)
    for other in apps.get_models():
        columns = _generic_columns(other)
        if columns and other._meta.app_label != "quality":
            refs.append(Reference(other, columns[1], ct))
    return refs


# ---------------------------------------------------------------- the on-entry check

@dataclass
class Candidate:
    record: models.Model
    score: float
    reasons: list[str] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)


def _clean_list(values: Any, normalizer) -> list[str]:
    if isinstance(values, str):
        values = values.replace("，", ",").replace(";", ",").replace("\n", ",").split(",")
    out = []
    for value in values or []:
        try:
            normalized = normalizer(str(value))
        except NormalizationError:
            continue
        if normalized:
            out.append(normalized)
    return list(dict.fromkeys(out))[:10]


def _name_term(name: str, kind: str) -> tuple[str, str]:
    """(query term for the search index, key to compare) of a typed name; companies lose their suffix."""
    text = clean_text(name)
    if kind == RecordKind.ACCOUNT:
        core = prepare_company(text).replace(" ", "")
        _chars, phonetic, _initials = name_forms(core)
        return phonetic, phonetic
    chars, phonetic, _initials = name_forms(text)
    if chars and chars == phonetic and " " in text:  # a Latin name: its words are in the index
        return text.lower(), phonetic
    return phonetic, phonetic


def _phonetic(name: str, kind: str) -> str:
    return _name_term(name, kind)[1]


def candidates(queryset: models.QuerySet, kind: str, *, name: str = "", phones: Any = (), emails: Any = (),
               account: Any = None, exclude: int | None = None, limit: int = ENTRY_LIMIT,
               user: User | None = None) -> list[Candidate]:
    """Records in `queryset` that may be the one being typed, best first, found by indexed keys only:
    phones and emails (ContactMethod.normalized, the account's phone/email through its search text), the
    name's pinyin (search index), the company."""
    from django.conf import settings

    phones = _clean_list(phones, lambda v: normalize_phone(v, settings.PHONE_REGION))
    emails = _clean_list(emails, normalize_email)
    name = clean_text(name or "")[:200]
    if exclude:
        queryset = queryset.exclude(pk=exclude)
    found: dict[int, dict[str, str]] = {}
    per_key = 50

    def add(ids, key: str, level: str = "exact") -> None:
        for pk in ids:
            found.setdefault(pk, {})[key] = level

    if kind == RecordKind.CONTACT:
        if phones:
            add(queryset.filter(methods__kind=ContactMethodKind.PHONE, methods__normalized__in=phones)
                .values_list("pk", flat=True).distinct()[:per_key], "phone")
        if emails:
            add(queryset.filter(methods__kind=ContactMethodKind.EMAIL, methods__normalized__in=emails)
                .values_list("pk", flat=True).distinct()[:per_key], "email")
    else:
        for phone in phones:
            add(matching(queryset, phone).filter(phone=phone).values_list("pk", flat=True)[:per_key], "phone")
        for email in emails:
            add(matching(queryset, email).filter(email=email).values_list("pk", flat=True)[:per_key], "email")
    term, key = _name_term(name, kind) if name else ("", "")
    named: list[tuple[int, str]] = []
    if len(key) >= 3:
        named = list(matching(queryset, term).values_list("pk", "name")[:per_key])
    company_ids: set[int] = set()
    if kind == RecordKind.CONTACT and account not in (None, "", []):
        accounts = Account.objects.visible_to(user) if user is not None else Account._base_manager.all()
        ids = account if isinstance(account, list | tuple) else [account]
        digits = [int(a) for a in ids if str(a).isdecimal() and 0 < int(a) < 2**63]
        texts = [str(a) for a in ids if not str(a).isdecimal() and str(a).strip()]
        account_ids = set(accounts.filter(pk__in=digits).values_list("pk", flat=True)) if digits else set()
        for text in texts[:3]:
            account_ids |= set(matching(accounts, text).values_list("pk", flat=True)[:20])
        if account_ids and named:
            company_ids = set(queryset.filter(pk__in=[pk for pk, _n in named], accounts__in=account_ids)
                              .values_list("pk", flat=True))
    for pk, other in named:
        if _phonetic(other, kind) == key:
            level = "exact" if clean_text(other) == name else "close"
            add([pk], "name", level)
            if pk in company_ids:
                found[pk]["company"] = "exact"
    if not found:
        return []
    scored = []
    for pk, levels in found.items():
        strengths = []
        if "phone" in levels:
            strengths.append(0.95)
        if "email" in levels:
            strengths.append(0.95)
        if "name" in levels:
            strengths.append(0.8 if "company" in levels else 0.55 if levels["name"] == "exact" else 0.45)
            if strengths[:-1]:
                strengths.append(0.5)
        miss = 1.0
        for s in strengths:
            miss *= 1.0 - s
        scored.append((1.0 - miss, pk, levels))
    scored.sort(key=lambda t: (-t[0], t[1]))
    scored = scored[:limit]
    related = ("primary_account",) if kind == RecordKind.CONTACT else ()
    rows = {o.pk: o for o in queryset.model._base_manager.filter(pk__in=[pk for _s, pk, _l in scored])
            .select_related(*related)}
    return [Candidate(rows[pk], score, _reasons(levels), levels) for score, pk, levels in scored if pk in rows]


def _reasons(levels: dict[str, str]) -> list[str]:
    out = []
    if "phone" in levels:
        out.append(_("same phone"))
    if "email" in levels:
        out.append(_("same email"))
    if "name" in levels:
        out.append(_("same name") if levels["name"] == "exact" else _("name sounds the same"))
    if "company" in levels:
        out.append(_("same company"))
    return out


def possible_duplicates(user: User, kind: str, *, name: str = "", phones: Any = (), emails: Any = (),
                        account: Any = None, exclude: int | None = None, limit: int = ENTRY_LIMIT) -> list[Candidate]:
    """What the user typing a new record may see of the records it may duplicate (visible ones only)."""
    model = model_for(kind)
    return candidates(model.objects.visible_to(user), kind, name=name, phones=phones, emails=emails,
                      account=account, exclude=exclude, limit=limit, user=user)


def record_entry_pairs(kind: str, obj: models.Model) -> int:
    """A record just saved: strong on-entry matches go to the review queue (source "entry"); returns how many."""
    model = model_for(kind)
    if kind == RecordKind.CONTACT:
        methods = list(ContactMethod.objects.filter(contact=obj).values_list("kind", "normalized"))
        phones = [n for k, n in methods if k == ContactMethodKind.PHONE]
        emails = [n for k, n in methods if k == ContactMethodKind.EMAIL]
        account = list(obj.accounts.values_list("pk", flat=True)[:5])
    else:
        phones, emails, account = [obj.phone] if obj.phone else [], [obj.email] if obj.email else [], None
    found = candidates(model._base_manager.all(), kind, name=obj.name, phones=phones, emails=emails,
                       account=account, exclude=obj.pk, limit=ENTRY_LIMIT)
    strong = [c for c in found if c.score >= ENTRY_KEEP]
    pairs = []
    for c in strong:
        a, b = DuplicatePair.ordered(obj.pk, c.record.pk)
        pairs.append(DuplicatePair(kind=kind, record_1=a, record_2=b, score=round(c.score, 6), levels=c.levels,
                                   source=PairSource.ENTRY))
    DuplicatePair.objects.bulk_create(pairs, ignore_conflicts=True)
    return len(pairs)


def record_entry_pairs_many(kind: str, pks: list[int]) -> int:
    """`record_entry_pairs` for many records just saved (an email batch's new senders), with a few queries for
    all of them: a contact reaches ENTRY_KEEP only through a phone or an email another contact has too (0.95), or
    a name at the same company (0.8) — a name alone scores at most 0.55 — so only contacts sharing a phone or an
    email, or linked to a company, are checked one by one. Records gone since (rolled back) are skipped."""
    model = model_for(kind)
    records = list(model._base_manager.filter(pk__in=pks).order_by("pk"))
    if kind != RecordKind.CONTACT or ENTRY_KEEP <= 0.55:
        return sum(record_entry_pairs(kind, obj) for obj in records)
    ids = [obj.pk for obj in records]
    methods = list(ContactMethod.objects.filter(
        contact_id__in=ids, kind__in=[ContactMethodKind.PHONE, ContactMethodKind.EMAIL])
        .values_list("contact_id", "kind", "normalized"))
    keys = Q(pk__in=[])
    for method_kind in (ContactMethodKind.PHONE, ContactMethodKind.EMAIL):
        values = {n for _c, k, n in methods if k == method_kind}
        if values:
            keys |= Q(kind=method_kind, normalized__in=values)
    holders: dict[tuple[str, str], set[int]] = {}
    for contact_id, method_kind, normalized in ContactMethod.objects.filter(keys).values_list(
            "contact_id", "kind", "normalized"):
        holders.setdefault((method_kind, normalized), set()).add(contact_id)
    check = {c for c, k, n in methods if len(holders.get((k, n), ())) > 1}
    check |= set(Contact.accounts.through.objects.filter(contact_id__in=ids).values_list("contact_id", flat=True))
    return sum(record_entry_pairs(kind, obj) for obj in records if obj.pk in check)


# ---------------------------------------------------------------- the review queue

def visible_pairs(user: User, kind: str | None = None, status: str | None = PairStatus.OPEN) -> models.QuerySet:
    """Pairs whose two records the user may both see (a pair with a record gone is not listed)."""
    rule = Q(pk__in=[])
    for key, model in MODELS.items():
        if kind and key != kind:
            continue
        ids = model.objects.visible_to(user).values("pk")
        rule |= Q(kind=key, record_1__in=ids, record_2__in=ids)
    qs = DuplicatePair.objects.filter(rule)
    if status:
        qs = qs.filter(status=status)
    return qs


def records_of(pairs: list[DuplicatePair]) -> dict[tuple[str, int], models.Model]:
    """The records of a page of pairs: one query per kind, not one per pair."""
    out: dict[tuple[str, int], models.Model] = {}
    for kind, model in MODELS.items():
        ids = {pk for p in pairs if p.kind == kind for pk in (p.record_1, p.record_2)}
        if ids:
            related = ("owner", "primary_account") if kind == RecordKind.CONTACT else ("owner",)
            for obj in model._base_manager.filter(pk__in=ids).select_related(*related):
                out[(kind, obj.pk)] = obj
    return out


def visible_pair(user: User, pk: int) -> DuplicatePair:
    """The pair if the user may see both records; DuplicatePair.DoesNotExist otherwise (a 404)."""
    return visible_pairs(user, status=None).get(pk=pk)


@transaction.atomic
def dismiss_pair(actor: User, pair: DuplicatePair) -> DuplicatePair:
    """Not duplicates: the pair stays dismissed, also when a later scan finds it again."""
    require_editor(actor)
    pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    model = model_for(pair.kind)
    if model.objects.editable_by(actor).filter(pk__in=[pair.record_1, pair.record_2]).count() != 2:
        raise PermissionDenied(_("You may not change both records."))
    if pair.status != PairStatus.OPEN:
        raise ValidationError({"__all__": [_("This pair is not open any more.")]})
    pair.status, pair.resolved_by, pair.resolved_at = PairStatus.DISMISSED, actor, timezone.now()
    pair.save(update_fields=["status", "resolved_by", "resolved_at"])
    write_audit(pair, actor, AuditAction.UPDATE, {"status": [PairStatus.OPEN, PairStatus.DISMISSED]})
    return pair


# ---------------------------------------------------------------- merge

def choice_fields(kind: str, first: models.Model, second: models.Model) -> list[str]:
    """Every field whose surviving value can be chosen: the plain ones, then each custom key either has."""
    keys = sorted(set(first.custom or {}) | set(second.custom or {}))
    return [*CHOOSABLE[kind], *[f"custom.{k}" for k in keys]]


def _empty(value: Any) -> bool:
    return value in (None, "", [], {}) or value is False


def default_choices(kind: str, survivor: models.Model, merged: models.Model) -> dict[str, str]:
    """The survivor's value, unless it is empty and the other record has one."""
    out = {}
    for name in choice_fields(kind, survivor, merged):
        mine, theirs = field_value(survivor, name), field_value(merged, name)
        out[name] = MERGED if _empty(mine) and not _empty(theirs) else SURVIVOR
    return out


def field_value(obj: models.Model, name: str) -> Any:
    if name.startswith("custom."):
        return (obj.custom or {}).get(name[len("custom."):])
    return getattr(obj, name)


def _locked_pair_records(actor: User, model: type[models.Model], survivor_id: Any, merged_id: Any):
    try:
        ids = [int(survivor_id), int(merged_id)]
    except (TypeError, ValueError):
        raise ValidationError({"survivor_id": [_("Choose the record that stays.")]})
    if ids[0] == ids[1]:
        raise ValidationError({"survivor_id": [_("A record cannot be merged with itself.")]})
    visible = model.objects.visible_to(actor).filter(pk__in=ids)
    if visible.count() != 2:
        raise model.DoesNotExist
    rows = {o.pk: o for o in model.objects.editable_by(actor).select_for_update().filter(pk__in=ids)}
    if len(rows) != 2:
        raise PermissionDenied(_("You may not change both records."))
    return rows[ids[0]], rows[ids[1]]


def _clean_choices(kind: str, survivor, merged, choices: dict[str, Any] | None) -> dict[str, str]:
    chosen = default_choices(kind, survivor, merged)
    errors: dict[str, list[str]] = {}
    for name, value in (choices or {}).items():
        if name not in chosen:
            errors[name] = [_("Not a field that can be chosen.")]
        elif value not in (SURVIVOR, MERGED):
            errors[name] = [_("Choose the survivor's value or the other record's.")]
        else:
            chosen[name] = value
    if errors:
        raise ValidationError(errors)
    return chosen


def _refuse_sensitive(actor: User, kind: str, survivor, merged, chosen: dict[str, str]) -> None:
    """Taking the other record's value of a sensitive field is a change only an approver may make."""
    if may_change_sensitive(actor):
        return
    sensitive = rules_for(kind).sensitive

    def value(obj, name: str) -> Any:
        return (obj.custom or {}).get(name[7:]) if name.startswith("custom.") else getattr(obj, name)

    errors = {
        name: [_("A sensitive field: keep this record's value, or ask an approver to merge.")]
        for name, side in chosen.items()
        if side == MERGED and name.removesuffix("_id") in sensitive and value(survivor, name) != value(merged, name)
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def merge_records(actor: User, kind: str, survivor_id: Any, merged_id: Any, *, choices: dict[str, Any] | None = None,
                  survivor_version: Any = None, merged_version: Any = None) -> Merge:
    """Merge `merged_id` into `survivor_id`: chosen values on the survivor, every reference relinked, the
    merged record deleted, the pair marked merged, both audited; returns the Merge (see undo_merge)."""
    require_editor(actor)
    model = model_for(kind)
    survivor, merged = _locked_pair_records(actor, model, survivor_id, merged_id)
    check_version(survivor, survivor_version)
    check_version(merged, merged_version)
    chosen = _clean_choices(kind, survivor, merged, choices)
    _refuse_sensitive(actor, kind, survivor, merged, chosen)
    survivor_before, merged_row = dump_row(survivor), dump_row(merged)
    audited_before = snapshot(survivor, AUDITED[kind])
    audited_before.update(_related_summary(kind, survivor))
    merged_repr = f"{merged} (#{merged.pk})"[:200]

    # The chosen values; custom fields per key.
    custom = dict(survivor.custom or {})
    for name, side in chosen.items():
        if side != MERGED:
            continue
        if name.startswith("custom."):
            key = name[len("custom."):]
            if key in (merged.custom or {}):
                custom[key] = merged.custom[key]
            else:
                custom.pop(key, None)
        elif name == "owner_id":
            survivor.owner_id, survivor.team_id = merged.owner_id, merged.team_id
        else:
            setattr(survivor, name, getattr(merged, name))
    survivor.custom = custom
    if kind == RecordKind.ACCOUNT and survivor.parent_id in (survivor.pk, merged.pk):
        survivor.parent_id = None
    if kind == RecordKind.CONTACT and survivor.primary_account_id is None:
        survivor.primary_account_id = merged.primary_account_id

    relinked, removed, modified = _relink(model, merged.pk, survivor.pk)
    if kind == RecordKind.CONTACT:
        modified += _fix_primary_methods(survivor)
        methods = list(ContactMethod.objects.filter(contact=survivor).values_list("kind", "normalized"))
        survivor.search_text = search_text(names=[survivor.name],
                                           phones=[n for k, n in methods if k == ContactMethodKind.PHONE],
                                           emails=[n for k, n in methods if k == ContactMethodKind.EMAIL])
    else:
        survivor.search_text = search_text(names=[survivor.name], phones=[survivor.phone], emails=[survivor.email])
    survivor.version += 1
    survivor.save()
    model._base_manager.filter(pk=merged.pk).delete()  # nothing points at it any more

    a, b = DuplicatePair.ordered(survivor.pk, merged.pk)
    pair, _created = DuplicatePair.objects.get_or_create(
        kind=kind, record_1=a, record_2=b, defaults={"score": 0.0, "source": PairSource.ENTRY})
    pair.status, pair.resolved_by, pair.resolved_at = PairStatus.MERGED, actor, timezone.now()
    pair.save(update_fields=["status", "resolved_by", "resolved_at"])

    after = snapshot(survivor, AUDITED[kind])
    after.update(_related_summary(kind, survivor))
    changes = {"merged_from": [None, merged_repr], **diff(audited_before, after)}
    write_audit(survivor, actor, AuditAction.MERGE, changes)
    write_audit(pair, actor, AuditAction.MERGE, {"status": [PairStatus.OPEN, PairStatus.MERGED],
                                                 "merged_from": [None, merged_repr]})
    return Merge.objects.create(
        kind=kind, survivor_id=survivor.pk, merged_id=merged.pk, pair=pair, merged_repr=merged_repr,
        survivor_before=survivor_before, survivor_version=survivor.version, merged_snapshot=merged_row,
        relinked=relinked, removed=removed, modified=modified, actor=actor,
    )


def _related_summary(kind: str, obj: models.Model) -> dict[str, list[str]]:
    """What the audit shows of the rows a merge moves: tags, phones, emails, companies."""
    out = {"tags": sorted(obj.tags.values_list("name", flat=True))}
    if kind == RecordKind.CONTACT:
        methods = list(ContactMethod.objects.filter(contact=obj).values_list("kind", "normalized"))
        out["phones"] = [n for k, n in methods if k == ContactMethodKind.PHONE]
        out["emails"] = [n for k, n in methods if k == ContactMethodKind.EMAIL]
        out["accounts"] = sorted(obj.accounts.values_list("name", flat=True))
    return out


def _relink(model: type[models.Model], old: int, new: int) -> tuple[list, list, list]:
    """Point every reference to `old` at `new`; identical rows are deleted. Returns what was done, for undo."""
    relinked: list[dict] = []
    removed: list[dict] = []
    modified: list[dict] = []
    for ref in references(model):
        rows = ref.rows(old)
        if ref.model is model and ref.content_type is None:  # a self-reference (parent): never to itself
            for obj in rows.filter(pk=new):
                modified.append({"model": ref.label, "id": obj.pk, "before": {ref.column: old}})
            rows.filter(pk=new).update(**{ref.column: None})
            rows = ref.rows(old)
        identity = ref.identity()
        if identity:
            have = set(ref.rows(new).values_list(*identity))
            for obj in list(rows):
                if tuple(getattr(obj, c) for c in identity) in have:
                    removed.append({"model": ref.label, "row": dump_row(obj)})
                    ref.model._base_manager.filter(pk=obj.pk).delete()
                else:
                    have.add(tuple(getattr(obj, c) for c in identity))
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            ref.model._base_manager.filter(pk__in=ids).update(**{ref.column: new})
            relinked.append({"model": ref.label, "field": ref.column, "ids": [_json(i) for i in ids],
                             "content_type": ref.content_type.pk if ref.content_type else None})
    return relinked, removed, modified


def _fix_primary_methods(contact: Contact) -> list[dict]:
    """One main phone and one main email: the chosen ones (contact.phone / .email), else the first."""
    modified = []
    for kind, main in ((ContactMethodKind.PHONE, contact.phone), (ContactMethodKind.EMAIL, contact.email)):
        methods = list(ContactMethod.objects.filter(contact=contact, kind=kind).order_by("-is_primary", "id"))
        if not methods:
            setattr(contact, kind, "")
            continue
        keep = next((m for m in methods if m.normalized == main), methods[0])
        setattr(contact, kind, keep.normalized)
        for m in methods:
            if m.is_primary != (m is keep):
                modified.append({"model": ContactMethod._meta.label, "id": m.pk,
                                 "before": {"is_primary": m.is_primary}})
                ContactMethod.objects.filter(pk=m.pk).update(is_primary=m is keep)
    return modified


# ---------------------------------------------------------------- undo

def merge_for(user: User, pk: int) -> Merge:
    """A merge the user may see: its survivor must be visible to them."""
    merge = Merge.objects.get(pk=pk)
    if not model_for(merge.kind).objects.visible_to(user).filter(pk=merge.survivor_id).exists():
        raise Merge.DoesNotExist
    return merge


@transaction.atomic
def undo_merge(actor: User, merge: Merge) -> models.Model:
    """Put the merged record back with its id and values, move back what was moved, restore the survivor.

    Refused when the survivor was edited after the merge (its version moved on): undoing would silently
    throw those edits away. Rows added to the survivor since the merge stay with it."""
    require_editor(actor)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    model = model_for(merge.kind)
    if merge.undone_at is not None:
        raise ValidationError({"__all__": [_("This merge was already undone.")]})
    survivor = model.objects.editable_by(actor).select_for_update().filter(pk=merge.survivor_id).first()
    if survivor is None:
        if model._base_manager.filter(pk=merge.survivor_id).exists():
            raise PermissionDenied(_("You may not change this record."))
        raise ValidationError({"__all__": [_("The record that was kept has been deleted since; the merge cannot be "
                                             "undone.")]})
    if survivor.version != merge.survivor_version:
        raise ValidationError({"__all__": [_("“%(name)s” was changed after the merge (version %(then)d, now "
                                             "%(now)d). Undoing would lose those changes, so it is refused; "
                                             "edit the record by hand instead.")
                                           % {"name": survivor, "then": merge.survivor_version,
                                              "now": survivor.version}]})
    if model._base_manager.filter(pk=merge.merged_id).exists():
        raise ValidationError({"__all__": [_("The merged record exists again; nothing to undo.")]})
    audited_before = snapshot(survivor, AUDITED[merge.kind])
    audited_before.update(_related_summary(merge.kind, survivor))
    restored = _insert_raw(model, merge.merged_snapshot)
    for entry in reversed(merge.relinked):
        other = apps.get_model(entry["model"])
        rows = other._base_manager.filter(pk__in=entry["ids"], **{entry["field"]: merge.survivor_id})
        rows.update(**{entry["field"]: merge.merged_id})
    for entry in merge.removed:
        _insert_raw(apps.get_model(entry["model"]), entry["row"])
    for entry in merge.modified:
        other = apps.get_model(entry["model"])
        other._base_manager.filter(pk=entry["id"]).update(**_load(other, entry["before"]))
    before = {k: v for k, v in _load(model, merge.survivor_before).items() if k != "id"}
    model._base_manager.filter(pk=merge.survivor_id).update(**before)
    survivor.refresh_from_db()

    merge.undone_at, merge.undone_by = timezone.now(), actor
    merge.save(update_fields=["undone_at", "undone_by"])
    if merge.pair_id:
        DuplicatePair.objects.filter(pk=merge.pair_id).update(status=PairStatus.OPEN, resolved_by=None,
                                                              resolved_at=None)
    after = snapshot(survivor, AUDITED[merge.kind])
    after.update(_related_summary(merge.kind, survivor))
    write_audit(survivor, actor, AuditAction.UPDATE, {"merged_from": [merge.merged_repr, None],
                                                      **diff(audited_before, after)})
    write_audit(restored, actor, AuditAction.UPDATE, {"merged_from": [f"{survivor} (#{survivor.pk})", None]})
    if merge.pair is not None:
        write_audit(merge.pair, actor, AuditAction.UPDATE, {"status": [PairStatus.MERGED, PairStatus.OPEN]})
    return restored
