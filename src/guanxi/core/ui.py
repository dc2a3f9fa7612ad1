"""Small helpers the web views share: htmx detection, safe redirects, readable audit changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import CustomField, User


def flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    """Every message of a failed action as an error message on the next page."""
    for message in exc.messages:
        messages.error(request, message)


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def htmx_target(request: HttpRequest) -> str:
    return request.headers.get("HX-Target", "") if is_htmx(request) else ""


def clean_param(value: str | None, max_length: int = 200) -> str:
    """A query-string value fit for the database: control characters (NUL, which PostgreSQL refuses in
    text) removed, trimmed and cut to a sane length."""
    text = "".join(ch for ch in (value or "") if ch >= " " or ch in "\t")
    return text.strip()[:max_length]


def clean_params(params: QueryDict, max_length: int = 500) -> QueryDict:
    """A copy of request.GET with every value cleaned by `clean_param`."""
    cleaned = QueryDict(mutable=True)
    for key, values in params.lists():
        cleaned.setlist(clean_param(key, 100), [clean_param(v, max_length) for v in values])
    return cleaned


def client_address(request: HttpRequest) -> str:
    """The peer address; a proxy's X-Forwarded-For is not trusted (anyone can send one)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def safe_next(request: HttpRequest, value: str | None, default: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return default


@dataclass
class ChangeRow:
    field: str
    label: str
    old: str
    new: str
    had_value: bool = True  # False when the field was empty before (a create): only the new value is shown


_SPECIAL_LABELS = {
    "phones": lambda: _("Phones"),
    "emails": lambda: _("Emails"),
    "accounts": lambda: _("Accounts"),
    "tags": lambda: _("Tags"),
    "addresses": lambda: _("Addresses"),
    "merged_from": lambda: _("Merged from"),
}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


class ChangeDescriber:
    """Turns `{field: [old, new]}` audit dicts into labelled, readable rows for one model.

    All entries of a page are described together so users and related records are loaded once,
    not once per entry.
    """

    def __init__(self, model: type[models.Model], user: User | None = None) -> None:
        self.model = model
        self.user = user
        self._custom: dict[str, CustomField] | None = None

    def _custom_fields(self) -> dict[str, CustomField]:
        if self._custom is None:
            self._custom = {f.key: f for f in CustomField.objects.filter(model=self.model._meta.model_name)}
        return self._custom

    def _field(self, key: str) -> models.Field | None:
        for name in (key, key[:-3] if key.endswith("_id") else None):
            if not name:
                continue
            try:
                return self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
        return None

    def label(self, key: str) -> str:
        if key.startswith("custom."):
            defn = self._custom_fields().get(key[len("custom."):])
            return defn.label if defn else key[len("custom."):]
        if key in _SPECIAL_LABELS:
            return str(_SPECIAL_LABELS[key]())
        field = self._field(key)
        if field is None:
            return key
        if field.auto_created and not field.concrete:
            # A reverse relation (a quote's "lines": how many) has no verbose name: its model's plural one.
            return str(field.related_model._meta.verbose_name_plural)
        return str(field.verbose_name)

    def describe(self, changes_list: list[dict]) -> list[list[ChangeRow]]:
        names = self._related_names(changes_list)
        return [[self._row(key, pair, names) for key, pair in sorted(self._shown(changes), key=self._order)]
                for changes in changes_list]

    def _shown(self, changes: dict | None) -> list[tuple[str, Any]]:
        """The main phone/email repeat the first of the phones/emails lists: show the lists only."""
        changes = changes or {}
        hidden = {single for single, plural in (("phone", "phones"), ("email", "emails")) if plural in changes}
        return [(k, v) for k, v in changes.items() if k not in hidden and not k.startswith("_")]  # "_request": a link

    def _order(self, item: tuple[str, Any]) -> tuple[int, str]:
        key = item[0]
        return (1 if key.startswith("custom.") else 0, key)

    def _related_names(self, changes_list: list[dict]) -> dict[tuple[type, Any], str]:
        """Names of users and records that changes refer to by id, in one query per related model."""
        wanted: dict[type[models.Model], set] = {}
        for changes in changes_list:
            for key, pair in (changes or {}).items():
                field = self._field(key)
                if field is None or not field.is_relation or not key.endswith("_id"):
                    continue
                for value in pair if isinstance(pair, list | tuple) else []:
                    if isinstance(value, int):
                        wanted.setdefault(field.related_model, set()).add(value)
        names: dict[tuple[type, Any], str] = {}
        for related, ids in wanted.items():
            qs = related._default_manager.all()
            if hasattr(qs, "visible_to") and related is not User:
                qs = qs.visible_to(self.user)
            for obj in qs.filter(pk__in=ids):
                names[(related, obj.pk)] = str(obj)
        return names

    def _value(self, key: str, value: Any, names: dict) -> str:
        if _empty(value):
            return "—"
        if key.startswith("custom."):
            from .templatetags.guanxi import display_custom

            defn = self._custom_fields().get(key[len("custom."):])
            return display_custom(value, defn.field_type if defn else "", defn.currency if defn else "") or "—"
        field = self._field(key)
        if field is not None and field.is_relation and key.endswith("_id"):
            return names.get((field.related_model, value), f"#{value}")
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if getattr(field, "choices", None):  # reverse relations ("addresses") have no choices
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, list):
            return "; ".join(str(v) for v in value) or "—"
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        return str(value)

    def _row(self, key: str, pair: Any, names: dict) -> ChangeRow:
        old, new = (pair[0], pair[1]) if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        return ChangeRow(field=key, label=capfirst(self.label(key)), old=self._value(key, old, names),
                         new=self._value(key, new, names), had_value=not _empty(old))
