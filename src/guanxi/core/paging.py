"""Keyset pagination: a page is `WHERE (sort, id) after the cursor ORDER BY sort, id LIMIT n`,
so page 10,000 costs what page 1 costs. The cursor is opaque to clients (base64 JSON)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _


@dataclass
class Page:
    items: list
    next_cursor: str | None
    sort: str


def encode_cursor(sort: str, value: Any, pk: int) -> str:
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    raw = json.dumps([sort, value, pk], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, field: models.Field | None) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cur_sort, value, pk = json.loads(raw)
        if cur_sort != sort or not isinstance(pk, int):
            raise ValueError
        # A forged cursor must not reach the database: no None, lists or NUL characters as sort values.
        if field is not None and (not isinstance(value, str | int | float) or "\x00" in str(value)):
            raise ValueError
        if isinstance(field, models.DateTimeField) and value is not None:
            value = dt.datetime.fromisoformat(value)
            value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
        elif isinstance(field, models.DateField) and value is not None:
            value = dt.date.fromisoformat(value)
        return value, pk
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError,
            json.JSONDecodeError):
        raise ValidationError({"cursor": [_("This page link is not valid any more; start from the first page.")]})


def paginate(qs: models.QuerySet, *, sort: str, allowed: list[str], cursor: str | None = None,
             limit: int = 50, ids_first: bool = False) -> Page:
    """One page of `qs` ordered by `sort` (a field in `allowed`, '-' for descending) and then by id.

    `ids_first`: find the page's ids with the filters and the sort alone, then read those rows with their
    joins (`select_related`) — one more query, but the database sorts narrow rows and joins only the page.
    Worth it on large tables whose filters may leave thousands of rows to sort: PostgreSQL otherwise joins
    every one of them before the sort (5,000 narrowed search hits: 80 ms joined, 8 ms as ids)."""
    if sort not in allowed:
        raise ValidationError({"sort": [_("Sort by one of: %(choices)s.") % {"choices": ", ".join(allowed)}]})
    desc = sort.startswith("-")
    name = sort.lstrip("-")
    field = qs.model._meta.get_field(name) if name != "id" else None
    if cursor:
        value, pk = decode_cursor(cursor, sort, field)
        op = "lt" if desc else "gt"
        if name == "id":
            qs = qs.filter(**{f"pk__{op}": pk})
        else:
            # `name >= v` first, so both databases use the (name, id) index as a range; the OR only
            # settles ties on `name`. A bare `name > v OR (name = v AND id > pk)` scans the table.
            qs = qs.filter(Q(**{f"{name}__{op}e": value}) & (Q(**{f"{name}__{op}": value}) | Q(**{f"pk__{op}": pk})))
    order = [sort, "-pk" if desc else "pk"] if name != "id" else [sort]
    if ids_first:
        ids = list(qs.order_by(*order).values_list("pk", flat=True)[: limit + 1])
        # The rows by primary key alone: `qs`'s filters (visibility included) chose these ids just now, and
        # repeating them would make the database evaluate them again (a search's 5,000-id list: 40 ms).
        fetch = qs.model._base_manager.filter(pk__in=ids).prefetch_related(*qs._prefetch_related_lookups)
        fetch.query.select_related = qs.query.select_related
        fetch.query.deferred_loading = qs.query.deferred_loading
        by_id = {row.pk: row for row in fetch} if ids else {}
        rows = [by_id[pk] for pk in ids if pk in by_id]
    else:
        rows = list(qs.order_by(*order)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        if isinstance(last, dict):  # a values() queryset
            next_cursor = encode_cursor(sort, last[name] if name != "id" else None, last["id"])
        else:
            next_cursor = encode_cursor(sort, getattr(last, name) if name != "id" else None, last.pk)
    return Page(items=rows, next_cursor=next_cursor, sort=sort)
