"""Custom-field administration: create, change and deactivate the fields administrators add.

Only administrators may change definitions. Values stay in each record's `custom` JSON; a field
that is deactivated keeps its values but no longer accepts new ones.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import AuditAction, CustomField, FieldType, User
from .records import clean_fields, diff, fail, write_audit

MODELS = ("account", "contact")
CHOICE_TYPES = {FieldType.CHOICE, FieldType.MULTI_CHOICE}
# Lower-case letters, digits and single underscores: the key appears in filters as `custom.<key>__gte`.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
EDITABLE = ["label_zh", "label_en", "required", "show_in_list", "currency", "position", "active"]
FIXED = ("model", "key", "field_type")
AUDITED = FIXED + ("label_zh", "label_en", "choices", "required", "show_in_list", "currency", "position",
                   "active")


def _require_admin(actor: User) -> None:
    if not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator may manage custom fields."))


def _clean_choices(value: Any, errors: dict[str, list[str]]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors["choices"] = [_("Expected a list of texts.")]
        return []
    choices = [v.strip() for v in value]
    if any(not c for c in choices):
        errors["choices"] = [_("A choice cannot be empty.")]
    elif any(len(c) > 100 for c in choices):
        errors["choices"] = [_("A choice has at most 100 characters.")]
    elif len(set(choices)) != len(choices):
        errors["choices"] = [_("Each choice may appear only once.")]
    elif len(choices) > 200:
        errors["choices"] = [_("At most 200 choices.")]
    return choices


def _clean_labels(data: dict[str, Any], cleaned: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """One label is enough; the other defaults to it."""
    zh, en = cleaned.get("label_zh"), cleaned.get("label_en")
    if "label_zh" in errors or "label_en" in errors:
        return
    if not zh and not en:
        errors["label_zh"] = [_("Give the field a label.")]
    elif not zh:
        cleaned["label_zh"] = en
    elif not en:
        cleaned["label_en"] = zh


def _clean_currency(cleaned: dict[str, Any], errors: dict[str, list[str]]) -> None:
    currency = (cleaned.get("currency") or "").upper()
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = [_("A currency is a three-letter code such as CNY.")]
    if "currency" in cleaned:
        cleaned["currency"] = currency or "CNY"


def _blank_labels(data: dict[str, Any], cleaned: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """A blank label is allowed (the other one fills in); only real errors (too long) remain."""
    for name in ("label_zh", "label_en"):
        if name in data and not str(data[name] or "").strip():
            errors.pop(name, None)
            cleaned[name] = ""


@transaction.atomic
def create_custom_field(actor: User, data: dict[str, Any]) -> CustomField:
    """A new field on accounts or contacts; its key is fixed for good."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    model = data.get("model")
    if model not in MODELS:
        errors["model"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(MODELS)}]
    key = data.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > 40:
        errors["key"] = [_("Use lower-case letters, digits and single underscores, starting with a letter "
                           "(at most 40 characters).")]
    field_type = data.get("field_type")
    if field_type not in FieldType.values:
        errors["field_type"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(FieldType.values)}]
    choices = _clean_choices(data.get("choices"), errors)
    if field_type in CHOICE_TYPES and not choices and "choices" not in errors:
        errors["choices"] = [_("A choice field needs at least one choice.")]
    if field_type not in CHOICE_TYPES:
        choices = []
    cleaned, errs = clean_fields(CustomField, {k: v for k, v in data.items() if k in EDITABLE}, EDITABLE,
                                 partial=True)
    errors.update(errs)
    _blank_labels(data, cleaned, errors)
    for name in ("label_zh", "label_en"):
        cleaned.setdefault(name, "")
    _clean_labels(data, cleaned, errors)
    _clean_currency(cleaned, errors)
    if not errors and CustomField.objects.filter(model=model, key=key).exists():
        errors["key"] = [_("This record type already has a field with this key.")]
    fail(errors)
    field = CustomField(model=model, key=key, field_type=field_type, choices=choices, **cleaned)
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError:  # a concurrent create with the same key
        raise ValidationError({"key": [_("This record type already has a field with this key.")]})
    write_audit(field, actor, AuditAction.CREATE,
                {name: [None, getattr(field, name)] for name in AUDITED if getattr(field, name) not in ("", None)})
    return field


@transaction.atomic
def update_custom_field(actor: User, field: CustomField, data: dict[str, Any]) -> CustomField:
    """Change labels, choices, flags or position; model, key and type stay as they are."""
    _require_admin(actor)
    current = CustomField.objects.select_for_update().get(pk=field.pk)
    errors: dict[str, list[str]] = {}
    for name in FIXED:
        if name in data and data[name] != getattr(current, name):
            errors[name] = [_("This cannot be changed; add a new field instead.")]
    cleaned, errs = clean_fields(CustomField, data, EDITABLE, partial=True)
    errors.update(errs)
    if "label_zh" in data or "label_en" in data:
        _blank_labels(data, cleaned, errors)
        cleaned.setdefault("label_zh", current.label_zh)
        cleaned.setdefault("label_en", current.label_en)
        _clean_labels(data, cleaned, errors)
    _clean_currency(cleaned, errors)
    if "choices" in data:
        choices = _clean_choices(data["choices"], errors)
        if current.field_type in CHOICE_TYPES:
            if not choices and "choices" not in errors:
                errors["choices"] = [_("A choice field needs at least one choice.")]
            cleaned["choices"] = choices
        elif choices:
            errors["choices"] = [_("Only choice fields have choices.")]
    fail(errors)
    before = {name: getattr(current, name) for name in AUDITED}
    for name, value in cleaned.items():
        setattr(current, name, value)
    current.save()
    changes = diff(before, {name: getattr(current, name) for name in AUDITED})
    if changes:
        write_audit(current, actor, AuditAction.UPDATE, changes)
    return current


def deactivate_custom_field(actor: User, field: CustomField) -> CustomField:
    """Hide a field from forms, lists and filters; the values already entered are kept."""
    return update_custom_field(actor, field, {"active": False})
