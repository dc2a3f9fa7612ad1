"""Printing a selection or a filtered list: which records (only visible ones), in which layout, as PDF.

The layout itself is `printing` (no Django); this module picks the records through the access rules,
turns them into recipients and rows, and refuses what cannot be printed with a field-level message.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.models import User

from . import export, printing
from .models import Address

MAX_RECORDS = 5000
LAYOUTS = {
    "address_list": gettext_lazy("Address list"),
    "phone_list": gettext_lazy("Phone list"),
    "labels_a4_3x7": gettext_lazy("Labels A4 3×7"),
    "labels_a4_2x8": gettext_lazy("Labels A4 2×8"),
    "envelope_dl": gettext_lazy("Envelopes DL"),
    "envelope_c5": gettext_lazy("Envelopes C5"),
}


@dataclass(frozen=True)
class PrintRequest:
    kind: str
    layout: str
    ids: Sequence[int] | None  # the checked rows, or None for the whole filtered list
    params: Mapping[str, Any]  # the list's filters
    sender: printing.Sender | None = None


def check_layout(layout: str | None) -> str:
    if layout not in LAYOUTS:
        raise ValidationError({"layout": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(LAYOUTS)}]})
    return layout


def _queryset(user: User, req: PrintRequest):
    if req.ids is None:
        return export.export_queryset(req.kind, user, req.params)
    if not req.ids:
        raise ValidationError({"ids": [_("Select at least one row first.")]})
    # Ids the user may not see drop out here without a word: a message would tell them the ids exist.
    return export.MODELS[req.kind].objects.visible_to(user).filter(pk__in=list(req.ids))


def _records(user: User, req: PrintRequest) -> list[dict[str, Any]]:
    qs = _queryset(user, req)
    count = qs[:MAX_RECORDS + 1].count()
    if count == 0:
        raise ValidationError({"ids" if req.ids is not None else "filters": [_("There is nothing to print.")]})
    if count > MAX_RECORDS:
        raise ValidationError({"ids" if req.ids is not None else "filters": [
            _("At most %(max)s records can be printed at a time; narrow the filters or select fewer rows.")
            % {"max": f"{MAX_RECORDS:,}"}]})
    return list(export.records(req.kind, qs, user, sort="name"))


def _company_addresses(rows: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """The first address of each contact's company, for contacts without one of their own (one query)."""
    wanted = {r["primary_account"]["id"] for r in rows if not r["addresses"] and r.get("primary_account")}
    out: dict[int, dict[str, str]] = {}
    if wanted:
        for address in Address.objects.filter(account_id__in=wanted).order_by("id").values(
                "account_id", "country", "province", "city", "district", "street", "postcode"):
            out.setdefault(address.pop("account_id"), address)
    return out


def recipients(kind: str, rows: list[dict[str, Any]]) -> list[printing.Recipient]:
    fallback = _company_addresses(rows) if kind == "contact" else {}
    out = []
    for r in rows:
        address = export.first_address(r)
        if not address and r.get("primary_account"):
            address = fallback.get(r["primary_account"]["id"], {})
        parts = {k: address.get(k) or "" for k in ("province", "city", "district", "street", "postcode")}
        country = address.get("country") or "CN"
        if kind == "account":
            out.append(printing.Recipient(name=r["name"], country=country, **parts))
        else:
            company = r["primary_account"]["name"] if r.get("primary_account") else ""
            out.append(printing.Recipient(name=r["name"], company=company, title=r["title"], country=country,
                                          **parts))
    return out


def _list_table(kind: str, layout: str, rows: list[dict[str, Any]], people: list[printing.Recipient]):
    Column = printing.Column
    if layout == "address_list":
        columns = [Column(_("Name"), 2.2), Column(_("Company"), 3.2), Column(_("Address"), 6.0),
                   Column(_("Postcode"), 1.3)]
        if kind == "account":
            columns = [Column(_("Name"), 4.0), Column(_("Address"), 6.0), Column(_("Postcode"), 1.3),
                       Column(_("Phone"), 2.2)]
            return columns, [[p.name, printing.one_line(p), p.postcode, r["phone"]] for r, p in zip(rows, people,
                                                                                                  strict=True)]
        return columns, [[p.name, p.company, printing.one_line(p), p.postcode] for p in people]
    if kind == "account":
        columns = [Column(_("Name"), 4.5), Column(_("Phone"), 2.5), Column(_("Email"), 3.5), Column(_("Website"), 3)]
        return columns, [[r["name"], r["phone"], r["email"], r["website"]] for r in rows]
    columns = [Column(_("Name"), 2.0), Column(_("Company"), 3.5), Column(_("Job title"), 2.2),
               Column(_("Phones"), 3.5), Column(_("Email"), 3.3)]
    return columns, [[r["name"], p.company, r["title"], ", ".join(m["value"] for m in r["phones"]) or r["phone"],
                      r["email"]] for r, p in zip(rows, people, strict=True)]


def print_pdf(user: User, req: PrintRequest) -> tuple[str, bytes]:
    """(file name, PDF) of the request's records in its layout; ValidationError names what is wrong."""
    check_layout(req.layout)
    rows = _records(user, req)
    people = recipients(req.kind, rows)
    font = printing.pdf_font()
    measure = printing.font_measure(font)
    if req.layout.startswith("labels_"):
        pages = printing.label_pages(printing.SHEETS[req.layout[len("labels_"):]], people, measure)
    elif req.layout.startswith("envelope_"):
        pages = printing.envelope_pages(printing.ENVELOPES[req.layout[len("envelope_"):]], people, req.sender,
                                        measure)
    else:
        columns, table = _list_table(req.kind, req.layout, rows, people)
        title = f"{LAYOUTS[req.layout]} · {export.sheet_title(req.kind)} · {timezone.localdate().isoformat()}"
        pages = printing.list_pages(title, columns, table, measure)
    out = io.BytesIO()
    printing.render_pdf(pages, out, font, title=str(LAYOUTS[req.layout]))
    return f"{req.kind}s-{req.layout}-{timezone.localdate().isoformat()}.pdf", out.getvalue()
