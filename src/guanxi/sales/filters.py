"""Opportunity list filters, shared by the web list and the API: one parser, one set of rules."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.models import User

from .models import StageKind

OPPORTUNITY_SORTS = ["-updated_at", "updated_at", "name", "-name", "-id", "id"]
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_ID = 2**63 - 1


def _ids(values: list[str], field: str, errors: dict, user: User | None = None) -> list[int]:
    ids = []
    for value in values:
        if value == "":
            continue
        if value == "me" and user is not None:
            ids.append(user.pk)
            continue
        if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
            errors[field] = [_("Expected an id.") if field != "owner" else _("Expected a user id or “me”.")]
            return []
        ids.append(int(value))
    return ids


def parse_month(value: str, field: str, errors: dict) -> dt.date | None:
    """"2031-03" → 1 March 2031."""
    match = MONTH.match(value or "")
    if match and 1 <= int(match[2]) <= 12 and int(match[1]) >= 1:
        return dt.date(int(match[1]), int(match[2]), 1)
    errors[field] = [_("Enter a month as YYYY-MM.")]
    return None


def next_month(month: dt.date) -> dt.date | None:
    if month.year == 9999 and month.month == 12:
        return None
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def apply_filters(qs: QuerySet, params: Mapping[str, Any], user: User) -> QuerySet:
    """owner (id or `me`), pipeline, stage, account (ids, repeatable), status, close_month (YYYY-MM)."""
    errors: dict[str, list[str]] = {}
    getlist = params.getlist if hasattr(params, "getlist") else (lambda k: [params[k]] if k in params else [])
    lookups = {"owner": "owner_id__in", "pipeline": "pipeline_id__in", "stage": "stage_id__in",
               "account": "account_id__in"}
    for key, lookup in lookups.items():
        ids = _ids([str(v) for v in getlist(key)], key, errors, user)
        if ids:
            qs = qs.filter(**{lookup: ids})
    statuses = [s for s in getlist("status") if s]
    if statuses:
        if any(s not in StageKind.values for s in statuses):
            errors["status"] = [_("A status is open, won or lost.")]
        else:
            qs = qs.filter(status__in=statuses)
    month_value = (getlist("close_month") or [""])[0]
    if month_value:
        month = parse_month(month_value, "close_month", errors)
        if month is not None:
            qs = qs.filter(expected_close__gte=month)
            end = next_month(month)
            if end is not None:
                qs = qs.filter(expected_close__lt=end)
    if errors:
        raise ValidationError(errors)
    return qs


LEAD_SORTS = ["-updated_at", "updated_at", "-created_at", "created_at", "name", "-name", "-id", "id"]


def apply_lead_filters(qs: QuerySet, params: Mapping[str, Any], user: User) -> QuerySet:
    """owner (id or `me`, repeatable), status, source, rating (repeatable), q (name, company, phone, email)."""
    from guanxi.customers.models import Source

    from .lead_models import LeadRating, LeadStatus

    errors: dict[str, list[str]] = {}
    getlist = params.getlist if hasattr(params, "getlist") else (lambda k: [params[k]] if k in params else [])
    owners = _ids([str(v) for v in getlist("owner")], "owner", errors, user)
    if owners:
        qs = qs.filter(owner_id__in=owners)
    for key, choices in (("status", LeadStatus), ("source", Source), ("rating", LeadRating)):
        values = [v for v in getlist(key) if v]
        if any(v not in choices.values for v in values):
            errors[key] = [_("Choose from: %(choices)s.") % {"choices": ", ".join(choices.values)}]
        elif values:
            qs = qs.filter(**{f"{key}__in": values})
    q = ((getlist("q") or [""])[0] or "").strip()
    if len(q) > 100:
        errors["q"] = [_("At most 100 characters.")]
    elif q:
        qs = qs.filter(Q(name__icontains=q) | Q(company__icontains=q) | Q(phone__contains=q) | Q(email__icontains=q))
    if errors:
        raise ValidationError(errors)
    return qs
