"""Streamed CSV export of a list the user may see: rows are read in keyset batches, so a million
rows need no more memory than a thousand."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db import models
from django.utils.translation import gettext as _

from guanxi.core.models import CustomField

from .models import Account, Contact

BATCH = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def _columns(model: type[models.Model]) -> list[tuple[str, str]]:
    if model is Account:
        return [("id", "ID"), ("name", _("name")), ("industry", _("industry")), ("size", _("size")),
                ("classification", _("classification")), ("source", _("source")),
                ("lifecycle_stage", _("lifecycle stage")), ("website", _("website")), ("phone", _("phone")),
                ("email", _("email")), ("owner", _("owner")), ("tags", _("tags")), ("updated_at", _("updated"))]
    return [("id", "ID"), ("name", _("name")), ("title", _("job title")), ("department", _("department")),
            ("company", _("company")), ("phone", _("phone")), ("email", _("email")), ("birthday", _("birthday")),
            ("preferred_channel", _("preferred channel")), ("marketing_consent", _("marketing consent")),
            ("owner", _("owner")), ("tags", _("tags")), ("updated_at", _("updated"))]


def _value(obj: models.Model, key: str) -> str:
    if key == "owner":
        return str(obj.owner) if obj.owner_id else ""
    if key == "company":
        return obj.primary_account.name if obj.primary_account_id else ""
    if key == "tags":
        return ", ".join(t.name for t in obj.tags.all())
    value = getattr(obj, key)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


def _custom(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


def csv_lines(qs: models.QuerySet) -> Iterator[str]:
    """CSV text of `qs` (already filtered through visible_to), header first, with a BOM so Excel reads UTF-8."""
    model = qs.model
    columns = _columns(model)
    fields = list(CustomField.objects.filter(model=model._meta.model_name, active=True))
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([label for _key, label in columns] + [f.label for f in fields])
    related = ["owner"] + (["primary_account"] if model is Contact else [])
    base = qs.select_related(*related).prefetch_related("tags").order_by("pk")
    last = 0
    while True:
        batch = list(base.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        for obj in batch:
            yield writer.writerow([_value(obj, key) for key, _label in columns]
                                  + [_custom((obj.custom or {}).get(f.key)) for f in fields])
        last = batch[-1].pk
