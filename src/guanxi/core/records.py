"""What every business record's services share: field validation, optimistic locking, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from .customfields import FieldDef, clean_values
from .deferred import save_later
from .models import AuditAction, AuditEntry, CustomField, Tag


class EditConflict(Exception):
    """The record changed since the editor read it; `current` is the newer version."""

    def __init__(self, current: models.Model, yours: dict[str, Any] | None = None) -> None:
        super().__init__("edit conflict")
        self.current = current
        self.yours = yours or {}


def int_or_none(value: Any) -> int | None:
    """A database id, or None for anything that is not one (including numbers beyond 64 bits)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def fail(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def clean_fields(model: type[models.Model], data: dict[str, Any], names: list[str],
                 *, partial: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Django's own field validation (types, choices, lengths, blank) for the plain fields named."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        if name not in data:
            if partial:
                continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # pragma: no cover - programming error
            raise
        value = data.get(name, field.get_default())
        if value is None and not field.null:
            value = "" if isinstance(field, models.CharField | models.TextField) else value
        if isinstance(value, str) and isinstance(field, models.CharField | models.TextField):
            value = value.strip()
        try:
            cleaned[name] = field.clean(value, None)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
    return cleaned, errors


def field_defs(model_key: str) -> list[FieldDef]:
    return [
        FieldDef(key=f.key, field_type=f.field_type, required=f.required, choices=list(f.choices or []))
        for f in CustomField.objects.filter(model=model_key, active=True)
    ]


def clean_custom(model_key: str, values: Any, current: dict | None, *, partial: bool):
    return clean_values(field_defs(model_key), values if values is not None else {}, partial=partial,
                        current=current)


def resolve_tags(names: Any) -> tuple[list[Tag], list[str]]:
    """Tags by name, created on first use; returns (tags, errors)."""
    if names is None:
        return [], []
    if isinstance(names, str):
        names = [n for n in names.replace("，", ",").split(",")]
    if not isinstance(names, list | tuple):
        return [], [_("Expected a list of tag names.")]
    clean = [str(n).strip() for n in names if str(n).strip()]
    if any(len(n) > 50 for n in clean):
        return [], [_("A tag has at most 50 characters.")]
    tags = []
    for name in dict.fromkeys(clean):
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags, []


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited values of a record; FKs by id (`owner_id`), lists sorted."""
    out: dict[str, Any] = {}
    for name in fields:
        if name == "custom":
            for key, value in (obj.custom or {}).items():
                out[f"custom.{key}"] = value
            continue
        value = getattr(obj, name)
        out[name] = _plain(value)
    return out


def creation_changes(obj: models.Model, fields: list[str]) -> dict[str, list[Any]]:
    """The audit changes of a new record: each audited field that has a value, as [None, value]."""
    return {k: [None, v] for k, v in snapshot(obj, fields).items() if v not in ("", None)}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def write_audit(obj: models.Model, actor, action: str, changes: dict | None = None) -> AuditEntry:
    """The entry, saved — or kept for the enclosing `deferred.rows_saved_together` block's flush."""
    return save_later(AuditEntry(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        changes=changes or {},
        version=getattr(obj, "version", 0),
    ))


def audit_trail(obj: models.Model):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).select_related("actor")


def check_version(current: models.Model, expected: Any, yours: dict[str, Any] | None = None) -> None:
    """Refuse a save over a newer version than the one the editor started from."""
    try:
        expected_int = int(expected)
    except (TypeError, ValueError):
        raise ValidationError({"version": [_("The version you edited is required.")]})
    if expected_int != current.version:
        raise EditConflict(current, yours)


__all__ = [
    "AuditAction", "EditConflict", "audit_trail", "check_version", "clean_custom", "clean_fields", "diff",
    "fail", "resolve_tags", "snapshot", "write_audit",
]
