"""Validation of custom-field values against their definitions. Plain Python: definitions are passed in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FieldDef:
    key: str
    field_type: str
    required: bool = False
    choices: list[str] = field(default_factory=list)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_value(defn: FieldDef, value: Any) -> Any:
    """The JSON-storable value, or ValueError with a message for the user."""
    if _empty(value):
        if defn.required:
            raise ValueError(_("This field is required."))
        return None
    kind = defn.field_type
    if kind == "text":
        if not isinstance(value, str | int | float):
            raise ValueError(_("Enter text."))
        text = str(value).strip()
        if len(text) > 1000:
            raise ValueError(_("At most 1,000 characters."))
        return text
    if kind in ("number", "money"):
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            raise ValueError(_("Enter a number."))
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError(_("Enter a number."))
        if kind == "money":
            return str(number.quantize(Decimal("0.01")))
        return float(number) if number != number.to_integral_value() else int(number)
    if kind == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on", "是"):
            return True
        if text in ("0", "false", "no", "off", "否"):
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == "choice":
        if str(value) not in defn.choices:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(defn.choices)})
        return str(value)
    if kind == "multi_choice":
        values = value if isinstance(value, list) else [v.strip() for v in str(value).split(",") if v.strip()]
        bad = [str(v) for v in values if str(v) not in defn.choices]
        if bad:
            raise ValueError(_("Not a choice: %(bad)s.") % {"bad": ", ".join(bad)})
        return [str(v) for v in dict.fromkeys(values)]
    raise ValueError(_("Unknown field type."))


def clean_values(defs: list[FieldDef], values: dict[str, Any], *, partial: bool = False,
                 current: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Merge `values` into `current`; returns (cleaned, errors keyed "custom.<key>")."""
    result = dict(current or {})
    errors: dict[str, list[str]] = {}
    known = {d.key: d for d in defs}
    if not isinstance(values, dict):
        return result, {"custom": [_("Expected an object of field values.")]}
    for key in values:
        if key not in known:
            errors[f"custom.{key}"] = [_("Unknown field.")]
    for defn in defs:
        if defn.key not in values:
            if not partial and defn.required and _empty(result.get(defn.key)):
                errors[f"custom.{defn.key}"] = [_("This field is required.")]
            continue
        try:
            cleaned = clean_value(defn, values[defn.key])
        except ValueError as exc:
            errors[f"custom.{defn.key}"] = [str(exc)]
            continue
        if cleaned is None:
            result.pop(defn.key, None)
        else:
            result[defn.key] = cleaned
    return result, errors
