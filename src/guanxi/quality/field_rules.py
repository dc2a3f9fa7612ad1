"""Which fields of a record type an administrator may make required, sensitive or pattern-checked, and
the check itself. The same check runs on every path that writes a record (UI, API, import)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.access import require_admin
from guanxi.core.models import MANAGER_ROLES, CustomField, FieldType, User

from .approval_models import FieldRule
from .models import RecordKind


@dataclass(frozen=True)
class RuleField:
    """A field rules can name: `inputs` are the input keys that change it (the first names it in errors),
    `audit` the keys its changes have in the audit trail."""

    key: str
    label: Promise | str
    inputs: tuple[str, ...]
    audit: tuple[str, ...]
    can_require: bool = True
    text: bool = False  # a pattern applies to its text
    custom: bool = field(default=False, compare=False)

    @property
    def error_key(self) -> str:
        return self.key if self.custom else self.inputs[0]


def _plain(key: str, label: Promise, *, text: bool = False, can_require: bool = True) -> RuleField:
    return RuleField(key, label, (key,), (key,), can_require=can_require, text=text)


_COMMON_TAIL = [
    RuleField("address", gettext_lazy("address"), ("addresses",), ("addresses",)),
    RuleField("owner", gettext_lazy("owner"), ("owner_id",), ("owner_id",), can_require=False),
    RuleField("tags", gettext_lazy("tags"), ("tags",), ("tags",)),
    _plain("description", gettext_lazy("description"), text=True),
]
BUILT_IN: dict[str, list[RuleField]] = {
    RecordKind.CONTACT: [
        _plain("name", gettext_lazy("name"), text=True),
        _plain("title", gettext_lazy("job title"), text=True),
        _plain("department", gettext_lazy("department"), text=True),
        RuleField("phone", gettext_lazy("phone"), ("phones", "phone"), ("phones", "phone"), text=True),
        RuleField("email", gettext_lazy("email"), ("emails", "email"), ("emails", "email"), text=True),
        RuleField("accounts", gettext_lazy("company"), ("account_ids",), ("accounts",)),
        _plain("birthday", gettext_lazy("birthday")),
        _plain("preferred_channel", gettext_lazy("preferred channel")),
        _plain("marketing_consent", gettext_lazy("marketing consent"), can_require=False),
        *_COMMON_TAIL,
    ],
    RecordKind.ACCOUNT: [
        _plain("name", gettext_lazy("name"), text=True),
        _plain("industry", gettext_lazy("industry")),
        _plain("size", gettext_lazy("size")),
        _plain("classification", gettext_lazy("classification")),
        _plain("source", gettext_lazy("source")),
        _plain("lifecycle_stage", gettext_lazy("lifecycle stage")),
        _plain("website", gettext_lazy("website"), text=True),
        _plain("phone", gettext_lazy("phone"), text=True),
        _plain("email", gettext_lazy("email"), text=True),
        RuleField("parent", gettext_lazy("parent account"), ("parent_id",), ("parent_id",)),
        *_COMMON_TAIL,
    ],
}


def rule_fields(kind: str) -> list[RuleField]:
    """Built-in fields, then the record type's active custom fields (whose `required` is set on the field)."""
    custom = [
        RuleField(f"custom.{f.key}", f.label, ("custom",), (f"custom.{f.key}",), can_require=False,
                  text=f.field_type == FieldType.TEXT, custom=True)
        for f in CustomField.objects.filter(model=kind, active=True)
    ]
    return BUILT_IN[kind] + custom


@dataclass(frozen=True)
class Rules:
    """The rules of one record type, loaded once per write."""

    kind: str
    required: frozenset[str] = frozenset()
    sensitive: frozenset[str] = frozenset()
    patterns: dict[str, tuple[re.Pattern, str]] = field(default_factory=dict)

    def touched(self, data: dict[str, Any]) -> set[str]:
        """The rule fields an input dict changes."""
        out = set()
        for f in BUILT_IN[self.kind]:
            if any(key in data for key in f.inputs):
                out.add(f.key)
        custom = data.get("custom")
        if isinstance(custom, dict):
            out.update(f"custom.{key}" for key in custom)
        return out


def rules_for(kind: str) -> Rules:
    rows = list(FieldRule.objects.filter(kind=kind))
    patterns = {}
    for r in rows:
        if r.pattern:
            try:
                patterns[r.field] = (re.compile(r.pattern), r.message)
            except re.error:  # refused when saved; an old bad one is ignored rather than blocking every save
                continue
    return Rules(kind, frozenset(r.field for r in rows if r.required),
                 frozenset(r.field for r in rows if r.sensitive), patterns)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value if not _empty(v)]
    return [] if _empty(value) else [str(value)]


def missing_required(rules: Rules, values: dict[str, Any], *, creating: bool) -> list[RuleField]:
    """The required fields that are empty (on create, also those left out)."""
    fields = {f.key: f for f in BUILT_IN[rules.kind]}
    return [fields[key] for key in sorted(rules.required)
            if key in fields and fields[key].can_require and (key in values or creating)
            and _empty(values.get(key))]


def rule_errors(rules: Rules, values: dict[str, Any], *, creating: bool, patterns_only: bool = False,
                ) -> dict[str, list[str]]:
    """Errors for the values given ({rule field: value}); on create a required field left out is empty."""
    errors: dict[str, list[str]] = {}
    fields = {f.key: f for f in BUILT_IN[rules.kind]}
    for f in [] if patterns_only else missing_required(rules, values, creating=creating):
        errors.setdefault(f.error_key, []).append(_("This field is required."))
    for key, (pattern, message) in rules.patterns.items():
        for text in _texts(values.get(key)):
            if not pattern.fullmatch(text):
                error_key = fields[key].error_key if key in fields else key
                errors.setdefault(error_key, []).append(
                    message or _("“%(value)s” does not follow this field's rule.") % {"value": text})
                break
    return errors


def may_change_sensitive(user: User) -> bool:
    """Administrators and managers change sensitive fields directly and approve others' changes."""
    return user.is_active and (user.is_administrator or user.role in MANAGER_ROLES)


# ------------------------------------------------------------------ administration


def current_rules(kind: str) -> list[dict[str, Any]]:
    """Every field rules can name, with its rule (or the defaults), for the settings page and the API."""
    rows = {r.field: r for r in FieldRule.objects.filter(kind=kind)}
    out = []
    for f in rule_fields(kind):
        r = rows.get(f.key)
        out.append({"field": f.key, "label": str(f.label), "can_require": f.can_require, "text": f.text,
                    "required": bool(r and r.required), "sensitive": bool(r and r.sensitive),
                    "pattern": r.pattern if r else "", "message": r.message if r else ""})
    return out


@transaction.atomic
def save_rules(actor: User, kind: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the rules of a record type; fields left out lose their rule. Administrators only."""

    require_admin(actor, _("Only administrators set field rules."))
    if kind not in RecordKind.values:
        raise ValidationError({"kind": [_("Unknown record type.")]})
    known = {f.key: f for f in rule_fields(kind)}
    errors: dict[str, list[str]] = {}
    keep: dict[str, FieldRule] = {}
    for i, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("field") if isinstance(item, dict) else None
        if name not in known:
            errors[f"rules.{i}.field"] = [_("Unknown field.")]
            continue
        f = known[name]
        required, sensitive = bool(item.get("required")), bool(item.get("sensitive"))
        pattern = str(item.get("pattern") or "").strip()
        message = str(item.get("message") or "").strip()
        if required and not f.can_require:
            errors[f"rules.{i}.required"] = [_("This field cannot be made required here.")]
        if pattern:
            if not f.text:
                errors[f"rules.{i}.pattern"] = [_("A pattern applies to text fields only.")]
            elif len(pattern) > 200:
                errors[f"rules.{i}.pattern"] = [_("A pattern has at most 200 characters.")]
            else:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    errors[f"rules.{i}.pattern"] = [_("Not a valid regular expression: %(error)s") % {"error": exc}]
        if len(message) > 200:
            errors[f"rules.{i}.message"] = [_("A message has at most 200 characters.")]
        if required or sensitive or pattern:
            keep[name] = FieldRule(kind=kind, field=name, required=required, sensitive=sensitive,
                                   pattern=pattern, message=message, updated_by=actor)
    if not isinstance(items, list):
        errors["rules"] = [_("Expected a list of rules.")]
    if errors:
        raise ValidationError(errors)
    FieldRule.objects.filter(kind=kind).delete()
    FieldRule.objects.bulk_create(keep.values())
    return current_rules(kind)
