"""Customer use cases: one function per thing a user does, each in one transaction.

Input is a plain dict (from a form, the API or an import). Bad input raises ValidationError with
messages keyed by field name and changes nothing; a stale `version` raises EditConflict.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanxi.core.access import require_editor
from guanxi.core.models import AuditAction, User
from guanxi.core.records import (
    check_version,
    clean_custom,
    clean_fields,
    diff,
    fail,
    int_or_none,
    resolve_tags,
    snapshot,
    write_audit,
)
from guanxi.core.services import assignable_users
from guanxi.quality.approvals import guarded_update, held_owner_changes, hold_owner_change
from guanxi.quality.field_rules import BUILT_IN, rule_errors, rules_for
from guanxi.quality.normalize import (
    NormalizationError,
    clean_text,
    normalize_email,
    normalize_phone,
    search_text,
    split_address,
)

from .models import Account, Address, Contact, ContactMethod, ContactMethodKind
from .pool_services import POOL_FIELDS, track_owner_change

# NormalizationError messages come from a Django-free module; marked here so they are translated.
NORMALIZATION_MESSAGES = (
    gettext_noop("not a valid email address"),
    gettext_noop("a phone number has only digits, spaces, +, -, ( and )"),
    gettext_noop("not a valid phone number"),
)

ACCOUNT_FIELDS = [
    "name", "industry", "size", "classification", "source", "lifecycle_stage", "website", "description",
]
CONTACT_FIELDS = ["name", "title", "department", "birthday", "preferred_channel", "marketing_consent",
                  "description"]
ACCOUNT_AUDITED = ACCOUNT_FIELDS + ["phone", "email", "parent_id", "owner_id", "custom"]
CONTACT_AUDITED = CONTACT_FIELDS + ["phone", "email", "owner_id", "custom"]
ADDRESS_FIELDS = ["kind", "country", "province", "city", "district", "street", "postcode"]


def _clean_owner(actor: User, data: dict, errors: dict) -> tuple[bool, User | None]:
    """(given, owner): the owner must be someone the actor may assign to."""
    if "owner_id" not in data:
        return False, None
    owner_id = data["owner_id"]
    if owner_id in (None, ""):
        if actor.is_administrator:
            return True, None
        errors["owner_id"] = [_("Only an administrator may leave a record without an owner.")]
        return True, None
    try:
        owner = assignable_users(actor).get(pk=int(owner_id))
    except (User.DoesNotExist, TypeError, ValueError):
        errors["owner_id"] = [_("You may not assign records to this user.")]
        return True, None
    return True, owner


def clean_normalized(normalizer, value: Any, field: str, errors: dict) -> str:
    """`normalizer(value)` (a phone, an email …), or "" with the reason under `field` in `errors`."""
    try:
        return normalizer(value or "")
    except NormalizationError as exc:
        errors[field] = [_(str(exc))]
        return ""


def _clean_methods(data: dict, errors: dict) -> list[tuple[str, str, str, str]] | None:
    """Phones and emails as (kind, as typed, normalised, label); None when neither was given."""
    if "phones" not in data and "emails" not in data:
        return None
    methods: list[tuple[str, str, str, str]] = []
    region = settings.PHONE_REGION
    for key, kind, normalizer in (
        ("phones", ContactMethodKind.PHONE, lambda v: normalize_phone(v, region)),
        ("emails", ContactMethodKind.EMAIL, normalize_email),
    ):
        items = data.get(key) or []
        if isinstance(items, str):
            items = [p for p in items.replace("，", ",").replace(";", ",").split(",")]
        if not isinstance(items, list):
            errors[key] = [_("Expected a list.")]
            continue
        seen = set()
        for i, item in enumerate(items):
            value, label = (item.get("value", ""), item.get("label", "")) if isinstance(item, dict) else (item, "")
            if not isinstance(value, str) or not isinstance(label, str):
                errors[f"{key}.{i}"] = [_("Expected text.")]
                continue
            if not value.strip():
                continue
            try:
                normalized = normalizer(value)
            except NormalizationError as exc:
                errors[f"{key}.{i}"] = [f"{value}: {_(str(exc))}"]
                continue
            if normalized not in seen:
                seen.add(normalized)
                methods.append((kind, clean_text(value)[:254], normalized, clean_text(label)[:30]))
    return methods


def _clean_addresses(data: dict, errors: dict) -> list[dict] | None:
    if "addresses" not in data:
        return None
    items = data["addresses"] or []
    if not isinstance(items, list):
        errors["addresses"] = [_("Expected a list.")]
        return []
    result = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"line": item}
        if not isinstance(item, dict):
            errors[f"addresses.{i}"] = [_("Expected an address.")]
            continue
        item = {k: v for k, v in item.items() if k in ADDRESS_FIELDS or k == "line"}
        line = item.pop("line", "")
        if line and not item.get("province"):
            if not isinstance(line, str):
                errors[f"addresses.{i}.line"] = [_("Expected text.")]
                continue
            item = {**split_address(line), **{k: v for k, v in item.items() if v}}
        cleaned, errs = clean_fields(Address, item, ADDRESS_FIELDS, partial=False)
        for field, msgs in errs.items():
            errors[f"addresses.{i}.{field}"] = msgs
        if any(cleaned.get(f) for f in ("province", "city", "district", "street", "postcode")):
            result.append(cleaned)
    return result


def _save_addresses(obj, addresses: list[dict] | None, **link) -> None:
    if addresses is None:
        return
    Address.objects.filter(**link).delete()
    Address.objects.bulk_create([Address(**link, **a) for a in addresses])


def _address_snapshot(**link) -> list[str]:
    return [str(a) for a in Address.objects.filter(**link).order_by("id")]


def clean_owner_and_custom(actor: User, data: dict, record, model_key: str, cleaned: dict, errors: dict) -> None:
    """Owner (the actor on create) and custom fields: the same rules for every owned, custom-fielded record."""
    given, owner = _clean_owner(actor, data, errors)
    if given:
        cleaned["owner"] = owner
    elif record is None:
        cleaned["owner"] = actor
    if "custom" in data or record is None:
        custom, errs = clean_custom(model_key, data.get("custom"), record.custom if record else {},
                                    partial=record is not None and "custom" not in data)
        errors.update(errs)
        cleaned["custom"] = custom


def _clean_shared(actor: User, data: dict, record, model_key: str, cleaned: dict, errors: dict) -> None:
    """Owner, custom fields, tags and addresses: the same rules for accounts and contacts."""
    clean_owner_and_custom(actor, data, record, model_key, cleaned, errors)
    if "tags" in data:
        tags, errs = resolve_tags(data["tags"]) if not errors else ([], [])
        if errs:
            errors["tags"] = errs
        cleaned["tags"] = tags
    cleaned["addresses"] = _clean_addresses(data, errors)


_RULE_SOURCES = {"parent": "parent", "accounts": "accounts", "address": "addresses", "tags": "tags"}
_METHOD_KINDS = {"phone": ContactMethodKind.PHONE, "email": ContactMethodKind.EMAIL}


def _check_rules(kind: str, cleaned: dict, errors: dict, *, creating: bool) -> None:
    """The administrators' required fields and patterns, on the cleaned (normalised) values."""
    rules = rules_for(kind)
    if not (rules.required or rules.patterns):
        return
    for field, messages in rule_errors(rules, rule_values(kind, cleaned), creating=creating).items():
        errors.setdefault(field, messages)


def rule_values(kind: str, cleaned: dict) -> dict[str, Any]:
    """{rule field: value} of what a cleaned input gives (the import adds company and tags itself)."""
    values: dict[str, Any] = {}
    for f in BUILT_IN[kind]:
        source = _RULE_SOURCES.get(f.key, f.key)
        if f.key in _METHOD_KINDS and "methods" in cleaned:
            values[f.key] = [n for k, _v, n, _l in cleaned["methods"] if k == _METHOD_KINDS[f.key]]
        elif f.key == "address":
            if cleaned.get("addresses") is not None:  # None: not given
                values[f.key] = cleaned["addresses"]
        elif source in cleaned:
            values[f.key] = cleaned[source]
    for key, value in (cleaned.get("custom") or {}).items():
        values[f"custom.{key}"] = value
    return values


# ---------------------------------------------------------------- accounts

def _clean_account(actor: User, data: dict, account: Account | None) -> dict[str, Any]:
    partial = account is not None
    errors: dict[str, list[str]] = {}
    if "name" in data and isinstance(data["name"], str):
        data = {**data, "name": clean_text(data["name"])}
    cleaned, errs = clean_fields(Account, data, ACCOUNT_FIELDS, partial=partial)
    errors.update(errs)
    if "phone" in data:
        cleaned["phone"] = clean_normalized(lambda v: normalize_phone(v, settings.PHONE_REGION), data["phone"],
                                         "phone", errors)
    if "email" in data:
        cleaned["email"] = clean_normalized(normalize_email, data["email"], "email", errors)
    if "parent_id" in data:
        parent_id = data["parent_id"]
        if parent_id in (None, ""):
            cleaned["parent"] = None
        else:
            parent = Account.objects.visible_to(actor).filter(pk=int_or_none(parent_id)).first()
            if parent is None:
                errors["parent_id"] = [_("No such account.")]
            elif account is not None and _would_cycle(account, parent):
                errors["parent_id"] = [_("An account cannot be its own parent, directly or indirectly.")]
            else:
                cleaned["parent"] = parent
    _clean_shared(actor, data, account, "account", cleaned, errors)
    _check_rules("account", cleaned, errors, creating=account is None)
    fail(errors)
    return cleaned


def _would_cycle(account: Account, parent: Account) -> bool:
    node, seen = parent, set()
    while node is not None and node.pk not in seen:
        if node.pk == account.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _apply(obj, cleaned: dict) -> None:
    for key, value in cleaned.items():
        if key in ("tags", "addresses", "methods", "accounts"):
            continue
        if key == "owner":
            obj.set_owner(value)
        else:
            setattr(obj, key, value)


def _account_search_text(account: Account) -> str:
    return search_text(names=[account.name], phones=[account.phone], emails=[account.email])


@transaction.atomic
def create_account(actor: User, data: dict[str, Any]) -> Account:
    require_editor(actor)
    cleaned = _clean_account(actor, data, None)
    account = Account()
    _apply(account, cleaned)
    account.search_text = _account_search_text(account)
    track_owner_change(account, None, "", creating=True)
    account.save()
    if cleaned.get("tags"):
        account.tags.set(cleaned["tags"])
    _save_addresses(account, cleaned["addresses"], account=account)
    after = snapshot(account, ACCOUNT_AUDITED)
    write_audit(account, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    return account


@transaction.atomic
def update_account(actor: User, account: Account, data: dict[str, Any], version: Any) -> Account:
    """Save the fields given; changes to sensitive fields by someone who may not make them wait for
    approval (the account returned carries `change_request`)."""
    require_editor(actor)
    return guarded_update(actor, "account", account, data, version, change_account)


def change_account(actor: User, account: Account, data: dict[str, Any], version: Any) -> tuple[Account, dict]:
    """The update itself, without its audit entry: (account, {field: [old, new]})."""
    current = Account.objects.select_for_update().get(pk=account.pk)
    check_version(current, version, data)
    cleaned = _clean_account(actor, data, current)
    before = snapshot(current, ACCOUNT_AUDITED)
    before_tags = sorted(current.tags.values_list("name", flat=True))
    before_addr = _address_snapshot(account=current)
    old_owner_id, old_classification = current.owner_id, current.classification
    _apply(current, cleaned)
    track_owner_change(current, old_owner_id, old_classification)
    current.search_text = _account_search_text(current)
    current.version += 1
    current.save()
    changes = diff(before, snapshot(current, ACCOUNT_AUDITED))
    if "tags" in cleaned:
        current.tags.set(cleaned["tags"])
        after_tags = sorted(t.name for t in cleaned["tags"])
        if after_tags != before_tags:
            changes["tags"] = [before_tags, after_tags]
    if cleaned["addresses"] is not None:
        _save_addresses(current, cleaned["addresses"], account=current)
        after_addr = _address_snapshot(account=current)
        if after_addr != before_addr:
            changes["addresses"] = [before_addr, after_addr]
    return current, changes


@transaction.atomic
def delete_account(actor: User, account: Account) -> None:
    require_editor(actor)
    write_audit(account, actor, AuditAction.DELETE, {"name": [account.name, None]})
    account.delete()


# ---------------------------------------------------------------- contacts

def _clean_contact(actor: User, data: dict, contact: Contact | None) -> dict[str, Any]:
    partial = contact is not None
    errors: dict[str, list[str]] = {}
    if "name" in data and isinstance(data["name"], str):
        data = {**data, "name": clean_text(data["name"])}
    cleaned, errs = clean_fields(Contact, data, CONTACT_FIELDS, partial=partial)
    errors.update(errs)
    if "account_ids" in data:
        ids = data["account_ids"] or []
        if isinstance(ids, int | str):
            ids = [ids]
        if not isinstance(ids, list) or any(int_or_none(i) is None for i in ids):
            errors["account_ids"] = [_("Expected a list of account ids.")]
        else:
            wanted = list(dict.fromkeys(int(i) for i in ids))
            found = {a.pk: a for a in Account.objects.visible_to(actor).filter(pk__in=wanted)}
            missing = [str(i) for i in wanted if i not in found]
            if missing:
                errors["account_ids"] = [_("No such account: %(ids)s.") % {"ids": ", ".join(missing)}]
            cleaned["accounts"] = [found[i] for i in wanted if i in found]
    methods = _clean_methods(data, errors)
    if methods is not None and contact is not None:  # a partial update keeps the kind it did not send
        for key, kind in (("phones", ContactMethodKind.PHONE), ("emails", ContactMethodKind.EMAIL)):
            if key not in data:
                methods += [(m.kind, m.value, m.normalized, m.label) for m in contact.methods.all() if m.kind == kind]
    if methods is not None:
        cleaned["methods"] = methods
    _clean_shared(actor, data, contact, "contact", cleaned, errors)
    if "marketing_consent" in data and cleaned.get("marketing_consent") != (
            contact.marketing_consent if contact else False):
        cleaned["consent_changed_at"] = timezone.now()
    _check_rules("contact", cleaned, errors, creating=contact is None)
    fail(errors)
    return cleaned


def _save_methods(contact: Contact, methods: list[tuple[str, str, str, str]] | None) -> None:
    if methods is None:
        return
    ContactMethod.objects.filter(contact=contact).delete()
    firsts: set[str] = set()
    rows = []
    for kind, value, normalized, label in methods:
        rows.append(ContactMethod(contact=contact, kind=kind, value=value, normalized=normalized, label=label,
                                  is_primary=kind not in firsts))
        firsts.add(kind)
    ContactMethod.objects.bulk_create(rows)


def _apply_methods(contact: Contact, methods: list[tuple[str, str, str, str]] | None) -> None:
    if methods is None:
        return
    contact.phone = next((n for k, _v, n, _l in methods if k == ContactMethodKind.PHONE), "")
    contact.email = next((n for k, _v, n, _l in methods if k == ContactMethodKind.EMAIL), "")


def _contact_search_text(contact: Contact, methods: list | None) -> str:
    if methods is None:
        methods = [(m.kind, m.value, m.normalized, m.label) for m in contact.methods.all()] if contact.pk else []
    return search_text(
        names=[contact.name],
        phones=[n for k, _v, n, _l in methods if k == ContactMethodKind.PHONE],
        emails=[n for k, _v, n, _l in methods if k == ContactMethodKind.EMAIL],
    )


def _methods_snapshot(contact: Contact) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"phones": [], "emails": []}
    for m in contact.methods.all():
        out["phones" if m.kind == ContactMethodKind.PHONE else "emails"].append(m.normalized)
    return out


@transaction.atomic
def create_contact(actor: User, data: dict[str, Any]) -> Contact:
    require_editor(actor)
    cleaned = _clean_contact(actor, data, None)
    contact = Contact()
    _apply(contact, cleaned)
    _apply_methods(contact, cleaned.get("methods"))
    accounts = cleaned.get("accounts") or []
    contact.primary_account = accounts[0] if accounts else None
    contact.search_text = _contact_search_text(contact, cleaned.get("methods") or [])
    contact.save()
    _save_methods(contact, cleaned.get("methods"))
    if accounts:
        contact.accounts.set(accounts)
    if cleaned.get("tags"):
        contact.tags.set(cleaned["tags"])
    _save_addresses(contact, cleaned["addresses"], contact=contact)
    after = snapshot(contact, CONTACT_AUDITED)
    after.update({k: v for k, v in _methods_snapshot(contact).items() if v})
    write_audit(contact, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    return contact


@transaction.atomic
def update_contact(actor: User, contact: Contact, data: dict[str, Any], version: Any) -> Contact:
    """Save the fields given; see update_account for sensitive fields."""
    require_editor(actor)
    return guarded_update(actor, "contact", contact, data, version, change_contact)


def change_contact(actor: User, contact: Contact, data: dict[str, Any], version: Any) -> tuple[Contact, dict]:
    """The update itself, without its audit entry: (contact, {field: [old, new]})."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(current, version, data)
    cleaned = _clean_contact(actor, data, current)
    before = snapshot(current, CONTACT_AUDITED)
    before.update(_methods_snapshot(current))
    before["accounts"] = sorted(current.accounts.values_list("name", flat=True))
    before["tags"] = sorted(current.tags.values_list("name", flat=True))
    before_addr = _address_snapshot(contact=current)
    _apply(current, cleaned)
    methods = cleaned.get("methods")
    _apply_methods(current, methods)
    if "accounts" in cleaned:
        current.primary_account = cleaned["accounts"][0] if cleaned["accounts"] else None
    current.search_text = _contact_search_text(current, methods)
    current.version += 1
    current.save()
    _save_methods(current, methods)
    if "accounts" in cleaned:
        current.accounts.set(cleaned["accounts"])
    if "tags" in cleaned:
        current.tags.set(cleaned["tags"])
    _save_addresses(current, cleaned["addresses"], contact=current)
    after = snapshot(current, CONTACT_AUDITED)
    after.update(_methods_snapshot(current))
    after["accounts"] = sorted(current.accounts.values_list("name", flat=True))
    after["tags"] = sorted(current.tags.values_list("name", flat=True))
    changes = diff(before, after)
    after_addr = _address_snapshot(contact=current)
    if after_addr != before_addr:
        changes["addresses"] = [before_addr, after_addr]
    return current, changes


@transaction.atomic
def delete_contact(actor: User, contact: Contact) -> None:
    require_editor(actor)
    write_audit(contact, actor, AuditAction.DELETE, {"name": [contact.name, None]})
    contact.delete()


# ---------------------------------------------------------------- bulk actions

MODELS = {"account": Account, "contact": Contact}


@transaction.atomic
def bulk_assign(actor: User, model_key: str, ids: list[int], owner_id: Any) -> int:
    """Give the selected records (those the actor may edit) a new owner; returns how many moved (when the
    owner is a sensitive field and the actor may not change it, each move becomes a change request)."""
    require_editor(actor)
    errors: dict[str, list[str]] = {}
    _given, owner = _clean_owner(actor, {"owner_id": owner_id}, errors)
    if owner is None and not errors:
        errors["owner_id"] = [_("Choose the new owner.")]
    fail(errors)
    model = MODELS[model_key]
    moved = 0
    held = held_owner_changes(actor, model_key)
    for obj in model.objects.editable_by(actor).filter(pk__in=ids).select_for_update():
        if obj.owner_id == owner.pk:
            continue
        if held:  # the owner is a sensitive field: each move waits for an approver
            hold_owner_change(actor, model_key, obj, owner.pk)
            continue
        old = obj.owner_id
        obj.set_owner(owner)
        obj.version += 1
        if isinstance(obj, Account):
            track_owner_change(obj, old, obj.classification)
            obj.save(update_fields=POOL_FIELDS)
        else:
            obj.save(update_fields=["owner", "team", "version", "updated_at"])
        write_audit(obj, actor, AuditAction.ASSIGN, {"owner_id": [old, owner.pk]})
        moved += 1
    return moved


@transaction.atomic
def bulk_tag(actor: User, model_key: str, ids: list[int], names: Any) -> int:
    """Add tags to the selected records the actor may edit; returns how many were tagged."""
    require_editor(actor)
    tags, errs = resolve_tags(names)
    if errs or not tags:
        raise ValidationError({"tags": errs or [_("Enter at least one tag.")]})
    model = MODELS[model_key]
    count = 0
    for obj in model.objects.editable_by(actor).filter(pk__in=ids).prefetch_related("tags"):
        have = {t.name for t in obj.tags.all()}
        new = [t for t in tags if t.name not in have]
        if new:
            obj.tags.add(*new)
            write_audit(obj, actor, AuditAction.TAG, {"tags": [sorted(have), sorted(have | {t.name for t in new})]})
            count += 1
    return count


def validation_messages(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": list(exc.messages)}
