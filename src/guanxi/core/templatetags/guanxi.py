"""Template helpers for the web UI: query strings, sort links, form widgets, display of values."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
from django import forms, template
from django.http import QueryDict
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one); always drops `cursor`
    unless it is set here, so a new filter or sort starts from the first page."""
    request = context.get("request")
    params: QueryDict = request.GET.copy() if request is not None else QueryDict(mutable=True)
    if "cursor" not in changes:
        params.pop("cursor", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return "?" + encoded if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_query(context: template.Context, field: str, current: str) -> str:
    """Query string that sorts by `field`, flipping the direction when it is already the sort."""
    new = f"-{field}" if current == field else field
    return query_replace(context, sort=new)


@register.simple_tag
def sort_icon(field: str, current: str) -> str:
    if current == field:
        return "bi-sort-up"
    if current == f"-{field}":
        return "bi-sort-down"
    return "bi-arrow-down-up text-body-tertiary"


@register.filter
def phone(value: str) -> str:
    """+8613800138000 → +86 138 0013 8000 (E.164 to the international form)."""
    return _phone(value) if value else ""


@lru_cache(maxsize=65536)
def _phone(value: str) -> str:
    if len(value) == 14 and value.startswith("+861") and value[1:].isdigit():  # CN mobile: the common case
        return f"+86 {value[3:6]} {value[6:10]} {value[10:]}"
    try:
        return phonenumbers.format_number(phonenumbers.parse(value), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return value


@register.filter
def getitem(mapping: Any, key: Any) -> Any:
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


def display_custom(value: Any, field_type: str, currency: str = "") -> str:
    """A custom-field value as the user reads it."""
    if value is None or value == "" or value == []:
        return ""
    if field_type == "boolean":
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field_type == "money":
        return f"{value} {currency}".strip()
    return str(value)


@register.filter
def custom_display(obj: Any, field: Any) -> str:
    """`{{ record|custom_display:field }}`: the record's value of a CustomField, formatted by type."""
    values = getattr(obj, "custom", None) or {}
    return display_custom(values.get(field.key), field.field_type, field.currency)


_INPUT_CLASSES = {
    forms.CheckboxInput: "form-check-input",
    forms.CheckboxSelectMultiple: "",
    forms.RadioSelect: "",
    forms.Select: "form-select",
    forms.SelectMultiple: "form-select",
}


@register.filter
def widget(bound: forms.BoundField, extra: str = "") -> str:
    """A bound field's widget with Bootstrap classes, `is-invalid` when it has errors."""
    css = "form-control"
    for kind, name in _INPUT_CLASSES.items():
        if isinstance(bound.field.widget, kind):
            css = name
            break
    classes = " ".join(c for c in (css, extra, "is-invalid" if bound.errors else "") if c)
    attrs = {"class": classes} if classes else {}
    if bound.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{bound.auto_id}-errors"
    return bound.as_widget(attrs=attrs)


@register.filter
def is_checkbox(bound: forms.BoundField) -> bool:
    return isinstance(bound.field.widget, forms.CheckboxInput)


@register.filter
def is_multi_checkbox(bound: forms.BoundField) -> bool:
    return isinstance(bound.field.widget, forms.CheckboxSelectMultiple)


@register.filter
def count_label(value: int) -> str:
    """A capped search count: one more than the cap (COUNT_CAP) reads "100+"."""
    from guanxi.core.search import COUNT_CAP

    return f"{COUNT_CAP}+" if value > COUNT_CAP else str(value)
