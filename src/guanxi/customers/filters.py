"""List filters shared by the web UI, the API and exports: one parser, one set of rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from guanxi.core.models import CustomField, FieldType
from guanxi.core.search import matching

from .models import (
    Account,
    Address,
    Classification,
    CompanySize,
    Contact,
    ContactMethod,
    ContactMethodKind,
    Industry,
    LifecycleStage,
    Source,
)

ACCOUNT_SORTS = ["-id", "id", "name", "-name", "-updated_at", "updated_at", "classification", "-classification"]
CONTACT_SORTS = ["-id", "id", "name", "-name", "-updated_at", "updated_at"]

_CHOICE_FILTERS = {
    Account: {"classification": Classification, "lifecycle_stage": LifecycleStage, "industry": Industry,
              "source": Source, "size": CompanySize},
    Contact: {},
}



def _has_address(link: str) -> models.Exists:
    return models.Exists(Address.objects.filter(**{link: models.OuterRef("pk")}))


def missing_rules(model: type[models.Model]) -> dict[str, models.Q]:
    """`missing=<field>`: the records with no value in that field (the data-health page links here)."""
    if model is Contact:
        return {"phone": models.Q(phone=""), "email": models.Q(email=""), "title": models.Q(title=""),
                "account": models.Q(primary_account__isnull=True), "address": ~models.Q(_has_address("contact")),
                "birthday": models.Q(birthday__isnull=True), "owner": models.Q(owner__isnull=True)}
    if model is Account:
        return {"industry": models.Q(industry=""), "size": models.Q(size=""),
                "classification": models.Q(classification=""), "phone": models.Q(phone=""),
                "website": models.Q(website=""), "address": ~models.Q(_has_address("account")),
                "owner": models.Q(owner__isnull=True)}
    return {}


def invalid_rules() -> dict[str, models.Q]:
    """`invalid=phone|email|bounced` (contacts): a stored phone not in E.164, an email whose normalised form is
    empty (rows kept as typed by older imports or direct database loads), an email address mail bounced from."""
    methods = ContactMethod.objects.filter(contact=models.OuterRef("pk"))
    return {
        "phone": models.Q(models.Exists(methods.filter(kind=ContactMethodKind.PHONE).exclude(
            normalized__startswith="+"))),
        "email": models.Q(models.Exists(methods.filter(kind=ContactMethodKind.EMAIL, normalized=""))),
        "bounced": models.Q(models.Exists(methods.filter(kind=ContactMethodKind.EMAIL, invalid_since__isnull=False))),
    }


def _get(params: Mapping[str, Any], key: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(key)
    else:
        value = params.get(key)
        values = value if isinstance(value, list) else ([] if value is None else [value])
    return [str(v).strip() for v in values if str(v).strip()]


def _int(value: str, field: str, errors: dict) -> int | None:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not -(2**63) <= number < 2**63:  # beyond 64 bits SQLite raises OverflowError
        errors[field] = [_("Enter a whole number.")]
        return None
    return number


def _yes_no(value: str, field: str, errors: dict) -> bool | None:
    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
        errors[field] = [_("Enter yes or no.")]
        return None
    return value.lower() in ("true", "1", "yes")


def _custom_filter(qs: models.QuerySet, defn: CustomField, op: str, value: str, errors: dict) -> models.QuerySet:
    key = f"custom.{defn.key}" + (f"__{op}" if op else "")
    path = f"custom__{defn.key}"
    kind = defn.field_type
    if kind in (FieldType.NUMBER, FieldType.MONEY):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= Decimal("1e15"):
            errors[key] = [_("Enter a number.")]
            return qs
        annotated = qs.annotate(**{f"_cf_{defn.key}": Cast(KeyTextTransform(defn.key, "custom"),
                                                            models.DecimalField(max_digits=20, decimal_places=4))})
        return annotated.filter(**{f"_cf_{defn.key}__{op or 'exact'}": number})
    if kind == FieldType.DATE:
        try:
            day = dt.date.fromisoformat(value).isoformat()
        except ValueError:
            errors[key] = [_("Enter a date as YYYY-MM-DD.")]
            return qs
        return qs.annotate(**{f"_cf_{defn.key}": KeyTextTransform(defn.key, "custom")}).filter(
            **{f"_cf_{defn.key}__{op or 'exact'}": day})
    if op:
        errors[key] = [_("This field cannot be compared.")]
        return qs
    if kind == FieldType.BOOLEAN:
        flag = _yes_no(value, key, errors)
        return qs if flag is None else qs.filter(**{path: flag})
    if kind == FieldType.MULTI_CHOICE:
        # Stored as a JSON list; its text form holds each value quoted.
        text = KeyTextTransform(defn.key, "custom")
        return qs.annotate(**{f"_cf_{defn.key}": text}).filter(
            **{f"_cf_{defn.key}__contains": '"' + value.replace('"', "") + '"'})
    if kind == FieldType.CHOICE:
        return qs.filter(**{path: value})
    return qs.annotate(**{f"_cf_{defn.key}": KeyTextTransform(defn.key, "custom")}).filter(
        **{f"_cf_{defn.key}__icontains": value})


def apply_filters(qs: models.QuerySet, params: Mapping[str, Any], user) -> models.QuerySet:
    """Narrow a visible queryset by list filters; unknown values give a ValidationError naming the field."""
    model = qs.model
    errors: dict[str, list[str]] = {}
    q = " ".join(_get(params, "q"))
    if q:
        qs = matching(qs, q)
    for name, choices in _CHOICE_FILTERS.get(model, {}).items():
        values = _get(params, name)
        if values:
            bad = [v for v in values if v not in choices.values]
            if bad:
                errors[name] = [_("Not a choice: %(bad)s.") % {"bad": ", ".join(bad)}]
            else:
                qs = qs.filter(**{f"{name}__in": values})
    owners = _get(params, "owner")
    if owners:
        ids = []
        for value in owners:
            if value == "me":
                ids.append(user.pk)
            elif (pk := _int(value, "owner", errors)) is not None:
                ids.append(pk)
        qs = qs.filter(owner_id__in=ids)
    for value in _get(params, "tag"):
        qs = qs.filter(tags__name=value)
    if model is Contact:
        for value in _get(params, "account"):
            if (pk := _int(value, "account", errors)) is not None:
                qs = qs.filter(accounts__id=pk)
    if model is Account:
        for value in _get(params, "parent"):
            if (pk := _int(value, "parent", errors)) is not None:
                qs = qs.filter(parent_id=pk)
        provinces = _get(params, "province")
        if provinces:  # an address in one of them (the geography chart's bars link here)
            qs = qs.filter(models.Exists(Address.objects.filter(account=models.OuterRef("pk"),
                                                                province__in=provinces)))
    if model is Contact:
        for value in _get(params, "marketing_consent"):  # the promotion-reach chart's bars link here
            if (flag := _yes_no(value, "marketing_consent", errors)) is not None:
                qs = qs.filter(marketing_consent=flag)
    for name, rules in (("missing", lambda: missing_rules(model)),
                        ("invalid", lambda: invalid_rules() if model is Contact else {})):
        values = _get(params, name)
        known = rules() if values else {}  # built only when asked for: ~1.5 ms of every list request
        for value in values:
            if value in known:
                qs = qs.filter(known[value])
            else:
                errors[name] = [_("Not a choice: %(bad)s.") % {"bad": value}]
    for bound, op in (("updated_after", "gte"), ("updated_before", "lt")):
        for value in _get(params, bound):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                errors[bound] = [_("Enter a date as YYYY-MM-DD.")]
                continue
            qs = qs.filter(**{f"updated_at__date__{op}": day})
    keys = [k for k in (params.keys() if hasattr(params, "keys") else []) if k.startswith("custom.")]
    if keys:
        defs = {f.key: f for f in CustomField.objects.filter(model=model._meta.model_name, active=True)}
        for raw_key in keys:
            key, _sep, op = raw_key[len("custom."):].partition("__")
            if key not in defs or op not in ("", "gte", "lte", "gt", "lt"):
                errors[raw_key] = [_("Unknown filter.")]
                continue
            for value in _get(params, raw_key):
                qs = _custom_filter(qs, defs[key], op, value, errors)
    if errors:
        raise ValidationError(errors)
    if _get(params, "tag") or (model is Contact and _get(params, "account")):
        qs = qs.distinct()
    return qs
