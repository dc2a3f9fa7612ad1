"""A quote as a PDF: the company letterhead (name, address, tax id, logo), the customer, the lines, the totals
by tax rate, and the terms. Chinese text uses the font customers.printing picks (STSong-Light or
GUANXI_PDF_FONT)."""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from guanxi.customers.printing import pdf_font

from .quote_models import CompanyProfile, Quote


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _letterhead(profile: CompanyProfile, styles: dict[str, ParagraphStyle]) -> list:
    lines = [profile.address, " · ".join(x for x in (profile.phone, profile.email) if x)]
    if profile.tax_id:
        lines.append(_("Tax id: %(id)s") % {"id": profile.tax_id})
    text = [_p(profile.name or "", styles["company"]), _p("\n".join(x for x in lines if x), styles["small"])]
    logo = None
    if profile.logo:
        try:
            with profile.logo.open("rb") as fh:
                logo = Image(io.BytesIO(fh.read()), width=30 * mm, height=15 * mm, kind="proportional")
        except (OSError, ValueError):
            logo = None  # a missing or broken logo must not stop the quote
    if logo is None:
        return text
    table = Table([[text, logo]], colWidths=[140 * mm, 35 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return [table]


def quote_pdf(quote: Quote) -> bytes:
    """The PDF bytes of one quote version."""
    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12)
    styles = {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.grey),
        "company": ParagraphStyle("company", parent=base, fontSize=14, leading=18),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceBefore=6 * mm),
        "right": ParagraphStyle("right", parent=base, alignment=2),
    }
    profile = CompanyProfile.current()
    story: list = _letterhead(profile, styles)
    story.append(_p(_("Quote %(number)s") % {"number": str(quote)}, styles["title"]))
    customer = [quote.account.name]
    if quote.contact_id:
        customer.append(quote.contact.name)
    facts = [
        (_("Customer"), "\n".join(customer)),
        (_("Date"), formats.date_format(quote.sent_at or quote.updated_at, "Y-m-d")),
        (_("Valid until"), formats.date_format(quote.valid_until, "Y-m-d") if quote.valid_until else "—"),
        (_("Currency"), quote.currency),
    ]
    if quote.title:
        facts.insert(0, (_("Subject"), quote.title))
    info = Table([[_p(k, styles["small"]), _p(v, base)] for k, v in facts], colWidths=[30 * mm, 145 * mm])
    info.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [info, Spacer(1, 5 * mm)]

    head = [_("No."), _("Description"), _("Qty"), _("Unit"), _("Unit price"), _("Discount %"), _("Tax %"),
            _("Net")]
    rows = [[_p(h, styles["small"]) for h in head]]
    for n, line in enumerate(quote.lines.select_related("product"), 1):
        description = line.description + (f"\n{line.product.code}" if line.product_id else "")
        rows.append([str(n), _p(description, base), _number(line.quantity), _p(line.unit, base),
                     _amount(line.unit_price), _number(line.discount), _number(line.tax_rate), _amount(line.net)])
    table = Table(rows, colWidths=[10 * mm, 62 * mm, 16 * mm, 14 * mm, 24 * mm, 16 * mm, 12 * mm, 24 * mm],
                  repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black), ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.whitesmoke]),
    ]))
    story += [table, Spacer(1, 4 * mm)]

    by_rate: dict[Decimal, list[Decimal]] = {}
    for line in quote.lines.all():
        slot = by_rate.setdefault(line.tax_rate, [Decimal(0), Decimal(0)])
        slot[0] += line.net
        slot[1] += line.tax
    totals = [[_("Net total"), _amount(quote.net_total)]]
    totals += [[_("VAT %(rate)s %% on %(net)s") % {"rate": _number(r), "net": _amount(v[0])}, _amount(v[1])]
               for r, v in sorted(by_rate.items())]
    totals.append([_("Total (%(currency)s)") % {"currency": quote.currency}, _amount(quote.gross_total)])
    summary = Table(totals, colWidths=[60 * mm, 30 * mm], hAlign="RIGHT")
    summary.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black), ("FONTSIZE", (0, -1), (-1, -1), 11),
    ]))
    story.append(summary)
    if quote.terms:
        story += [Spacer(1, 6 * mm), _p(_("Terms"), styles["small"]), _p(quote.terms, base)]

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=17 * mm, rightMargin=17 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=str(quote), author=profile.name or "Guanxi")
    doc.build(story)
    return out.getvalue()
