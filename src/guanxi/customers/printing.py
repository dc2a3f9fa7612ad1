"""Printed address lists, phone lists, label sheets and Chinese envelopes: page layout and PDF.

The layout is pure (no Django, no ReportLab): functions turn recipients into pages of positioned
text and boxes, in millimetres from the top-left corner of the page, so their geometry can be
checked without a PDF. `render_pdf` draws those pages with ReportLab.

Chinese text needs a font: ReportLab's built-in CID font STSong-Light (the viewer supplies the
glyphs, nothing is shipped or embedded) unless GUANXI_PDF_FONT names a TrueType file (.ttf, or .ttc
for its first face), which is then embedded.

Addresses in China are written from the largest unit down: 邮政编码 in the six boxes at the top left
of the envelope, then 省 市 区 街道, 公司, and the recipient's name followed by 收; the sender sits at the
bottom right. Addresses elsewhere use the Western order (name, company, street, city, country).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

PT = 25.4 / 72  # one point in millimetres
A4 = (210.0, 297.0)
ELLIPSIS = "…"
Measure = Callable[[str, float], float]  # (text, size in pt) → width in mm


# ------------------------------------------------------------------ what is printed


@dataclass(frozen=True)
class Recipient:
    name: str
    company: str = ""
    title: str = ""
    country: str = "CN"
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    postcode: str = ""

    @property
    def chinese(self) -> bool:
        return (self.country or "CN").upper() == "CN"


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline, from the top of the page
    text: str
    size: float  # points
    align: str = "left"  # left, center, right (x is then the centre or the right edge)


@dataclass(frozen=True)
class Box:
    x: float
    y: float  # top edge, from the top of the page
    w: float
    h: float
    dashed: bool = False


@dataclass
class Page:
    width: float
    height: float
    items: list[Text | Box] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [i.text for i in self.items if isinstance(i, Text)]


# ------------------------------------------------------------------ text measuring and fitting


def _wide(char: str) -> bool:
    return char >= "\u1100" and (char <= "\u115f" or "\u2e80" <= char <= "\ua4cf" or "\uac00" <= char <= "\ud7a3"
                                 or "\uf900" <= char <= "\ufaff" or "\ufe30" <= char <= "\ufe4f"
                                 or "\uff00" <= char <= "\uff60" or "\uffe0" <= char <= "\uffe6")


def approx_width(text: str, size: float) -> float:
    """A font-free estimate: a Chinese character is one em wide, anything else just over half."""
    ems = sum(1.0 if _wide(c) else 0.55 for c in text)
    return ems * size * PT


def fit(text: str, width: float, size: float, measure: Measure, min_size: float = 6.0) -> tuple[str, float]:
    """The text at the largest size (down to min_size) that fits `width`; cut with "…" if even that is too wide."""
    while size > min_size and measure(text, size) > width:
        size = max(min_size, size - 0.5)
    if measure(text, size) <= width:
        return text, size
    while text and measure(text + ELLIPSIS, size) > width:
        text = text[:-1]
    return text + ELLIPSIS, size


def wrap(text: str, width: float, size: float, measure: Measure, max_lines: int = 2) -> list[str]:
    """Greedy line breaks: between any two Chinese characters, at spaces in Latin text; the last line is cut."""
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines - 1:
        if measure(rest, size) <= width:
            break
        cut = 1
        while cut < len(rest) and measure(rest[:cut + 1], size) <= width:
            cut += 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0 and not _wide(rest[cut - 1]) and cut < len(rest) and not _wide(rest[cut]):
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(fit(rest, width, size, measure, min_size=size)[0])
    return lines


# ------------------------------------------------------------------ addresses


COUNTRIES = {"US": "USA", "GB": "UNITED KINGDOM", "UK": "UNITED KINGDOM", "DE": "GERMANY", "FR": "FRANCE",
             "JP": "JAPAN", "KR": "KOREA", "SG": "SINGAPORE", "HK": "HONG KONG, CHINA", "MO": "MACAO, CHINA",
             "TW": "TAIWAN, CHINA", "AU": "AUSTRALIA", "CA": "CANADA", "IT": "ITALY", "NL": "NETHERLANDS",
             "ES": "SPAIN", "MY": "MALAYSIA", "TH": "THAILAND", "VN": "VIET NAM", "IN": "INDIA", "CN": "CHINA"}


def chinese_address(r: Recipient) -> str:
    """省 市 区 街道 run together, as Chinese addresses are written; 北京市北京市 (municipalities) once."""
    parts: list[str] = []
    for part in (r.province, r.city, r.district, r.street):
        part = part.strip()
        if part and part not in parts:
            parts.append(part)
    return "".join(parts)


def western_address(r: Recipient) -> list[str]:
    """Street; district, city, province and postcode; the country, in capitals as the post asks."""
    place = ", ".join(p for p in (r.district, r.city) if p.strip())
    region = " ".join(p for p in (r.province, r.postcode) if p.strip())
    lines = [r.street.strip(), ", ".join(p for p in (place, region) if p)]
    country = (r.country or "").upper()
    lines.append(COUNTRIES.get(country, country))
    return [line for line in lines if line]


def one_line(r: Recipient) -> str:
    """The whole address on one line, for lists."""
    if r.chinese:
        return chinese_address(r)
    return ", ".join(western_address(r))


def label_lines(r: Recipient) -> list[tuple[str, bool]]:
    """(line, is the name) of a label, top to bottom."""
    if r.chinese:
        lines = [(r.postcode, False)] if r.postcode else []
        lines += [(chinese_address(r), False), (r.company, False), (f"{r.name} 收" if r.name else "", True)]
    else:
        lines = [(r.name, True), (r.company, False), *[(line, False) for line in western_address(r)]]
    return [(text, is_name) for text, is_name in lines if text]


# ------------------------------------------------------------------ label sheets


@dataclass(frozen=True)
class Sheet:
    """A sheet of labels: its page, the grid, and where the first label sits (mm)."""

    key: str
    columns: int
    rows: int
    label_w: float
    label_h: float
    left: float
    top: float
    pitch_x: float
    pitch_y: float
    page: tuple[float, float] = A4
    padding: float = 4.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def position(self, index: int) -> Box:
        """The label at `index` on a page, numbered across then down."""
        row, column = divmod(index, self.columns)
        return Box(self.left + column * self.pitch_x, self.top + row * self.pitch_y, self.label_w, self.label_h)

    def positions(self) -> list[Box]:
        return [self.position(i) for i in range(self.per_page)]


# The common A4 sheets: 21 labels of 63.5 × 38.1 mm (Avery L7160 and its many equals) and
# 16 of 99.1 × 33.9 mm (L7162).
SHEETS = {
    "a4_3x7": Sheet("a4_3x7", 3, 7, 63.5, 38.1, left=7.25, top=15.15, pitch_x=66.04, pitch_y=38.1),
    "a4_2x8": Sheet("a4_2x8", 2, 8, 99.1, 33.9, left=4.65, top=12.9, pitch_x=101.6, pitch_y=33.9),
}


def _block(items: list[Text], lines: list[tuple[str, bool]], x: float, y: float, width: float, height: float,
           size: float, measure: Measure, align: str = "left") -> None:
    """Lines fitted into a box from its top, shrinking together until they fit its height."""
    while True:
        name_size = size * 1.25
        total = sum((name_size if is_name else size) * PT * 1.35 for _t, is_name in lines)
        if total <= height or size <= 6:
            break
        size -= 0.5
    baseline = y
    for text, is_name in lines:
        line_size = size * 1.25 if is_name else size
        baseline += line_size * PT * 1.1
        fitted, fitted_size = fit(text, width, line_size, measure)
        items.append(Text(x, baseline, fitted, fitted_size, align))
        baseline += line_size * PT * 0.25


def label_pages(sheet: Sheet, recipients: Iterable[Recipient], measure: Measure = approx_width,
                size: float = 9.0) -> list[Page]:
    """One label per recipient, filling each sheet across then down."""
    pages: list[Page] = []
    for index, r in enumerate(recipients):
        slot = index % sheet.per_page
        if slot == 0:
            pages.append(Page(*sheet.page))
        box = sheet.position(slot)
        pad = sheet.padding
        lines = label_lines(r)
        if r.chinese:
            # the address may take two lines; the name stays whole
            address = chinese_address(r)
            split = wrap(address, box.w - 2 * pad, size, measure, max_lines=2) if address else []
            lines = [(t, n) for t, n in lines if t != address]
            at = 1 if r.postcode else 0
            lines[at:at] = [(part, False) for part in split]
        _block(pages[-1].items, lines, box.x + pad, box.y + pad, box.w - 2 * pad, box.h - 2 * pad, size, measure)
    return pages


# ------------------------------------------------------------------ envelopes


@dataclass(frozen=True)
class Envelope:
    key: str
    width: float
    height: float


# GB/T 1416 sizes, landscape: DL 220 × 110 mm and C5 229 × 162 mm.
ENVELOPES = {"dl": Envelope("dl", 220.0, 110.0), "c5": Envelope("c5", 229.0, 162.0)}
# The six 邮政编码 boxes: 8 × 10 mm, 2 mm apart, the first 20 mm from the left and 10 mm from the top edge.
POSTCODE_BOX = (8.0, 10.0)
POSTCODE_GAP = 2.0
POSTCODE_LEFT = 20.0
POSTCODE_TOP = 10.0
STAMP = (20.0, 24.0)  # 贴邮票处, top right


def postcode_boxes() -> list[Box]:
    w, h = POSTCODE_BOX
    return [Box(POSTCODE_LEFT + i * (w + POSTCODE_GAP), POSTCODE_TOP, w, h) for i in range(6)]


@dataclass(frozen=True)
class Sender:
    lines: tuple[str, ...] = ()  # company, address … as the user typed them
    postcode: str = ""


def envelope_page(envelope: Envelope, r: Recipient, sender: Sender | None = None,
                  measure: Measure = approx_width) -> Page:
    page = Page(envelope.width, envelope.height)
    items = page.items
    w, h = envelope.width, envelope.height
    tall = h / 110.0  # C5 has room for larger type
    if r.chinese:
        boxes = postcode_boxes()
        items.extend(boxes)
        digits = "".join(c for c in r.postcode if c.isdigit())
        if len(digits) == 6:
            for box, digit in zip(boxes, digits, strict=True):
                items.append(Text(box.x + box.w / 2, box.y + box.h * 0.75, digit, 16, "center"))
        items.append(Box(w - 12 - STAMP[0], 10, STAMP[0], STAMP[1], dashed=True))
        items.append(Text(w - 12 - STAMP[0] / 2, 10 + STAMP[1] / 2 + 1, "贴邮票处", 7, "center"))
        left, width = POSTCODE_LEFT, w - POSTCODE_LEFT - 20
        y = POSTCODE_TOP + POSTCODE_BOX[1] + 6 * tall
        size = 13 * min(tall, 1.2)
        for line in wrap(chinese_address(r), width, size, measure, max_lines=2):
            y += size * PT * 1.2
            items.append(Text(left, y, line, size))
            y += size * PT * 0.4
        if r.company:
            y += size * PT * 1.2
            text, fitted = fit(r.company, width, size, measure)
            items.append(Text(left, y, text, fitted))
        name_size = 20 * min(tall, 1.3)
        name_y = max(y + name_size * PT * 1.8, h * 0.55)
        text, fitted = fit(f"{r.name}  收" if r.name else "", w - 2 * POSTCODE_LEFT, name_size, measure)
        items.append(Text(w / 2, name_y, text, fitted, "center"))
        if sender and (sender.lines or sender.postcode):
            lines = [(line, False) for line in sender.lines if line]
            if sender.postcode:
                lines.append((f"邮政编码：{sender.postcode}", False))
            size = 9 * min(tall, 1.2)
            top = h - 10 - len(lines) * size * PT * 1.35
            _block(items, lines, w - 15, top, w * 0.45, h - 10 - top, size, measure, "right")
    else:
        if sender and (sender.lines or sender.postcode):
            lines = [(line, False) for line in sender.lines if line]
            if sender.postcode:
                lines.append((sender.postcode, False))
            _block(items, lines, 12, 10, w * 0.4, h * 0.3, 8 * min(tall, 1.2), measure)
        lines = label_lines(r)
        size = 12 * min(tall, 1.2)
        x = w * 0.42
        _block(items, lines, x, h * 0.45, w - x - 15, h * 0.5 - 8, size, measure)
    return page


def envelope_pages(envelope: Envelope, recipients: Iterable[Recipient], sender: Sender | None = None,
                   measure: Measure = approx_width) -> list[Page]:
    return [envelope_page(envelope, r, sender, measure) for r in recipients]


# ------------------------------------------------------------------ lists


@dataclass(frozen=True)
class Column:
    label: str
    width: float  # share of the printable width


def list_pages(title: str, columns: Sequence[Column], rows: Iterable[Sequence[str]], measure: Measure = approx_width,
               size: float = 9.0, page_size: tuple[float, float] = A4, margin: float = 15.0,
               footer: str = "{page} / {pages}") -> list[Page]:
    """A table on A4: title and column heads on every page, one line per row (cut with "…"), page numbers."""
    width, height = page_size
    usable = width - 2 * margin
    share = sum(c.width for c in columns) or 1
    widths = [usable * c.width / share for c in columns]
    line = size * PT * 1.6
    pages: list[Page] = []
    y = height

    def new_page() -> float:
        page = Page(width, height)
        page.items.append(Text(margin, margin + 5, title, size * 1.5))
        x = margin
        top = margin + 12
        for column, col_w in zip(columns, widths, strict=True):
            text, fitted = fit(column.label, col_w - 2, size, measure)
            page.items.append(Text(x, top, text, fitted))
            x += col_w
        page.items.append(Box(margin, top + 1.5, usable, 0))
        pages.append(page)
        return top + 2

    for row in rows:
        if y + line > height - margin - 6:
            y = new_page()
        y += line
        x = margin
        for cell, col_w in zip(row, widths, strict=False):
            text, fitted = fit(str(cell or ""), col_w - 2, size, measure, min_size=size)
            pages[-1].items.append(Text(x, y, text, fitted))
            x += col_w
    if not pages:
        new_page()
    for number, page in enumerate(pages, 1):
        page.items.append(Text(width / 2, height - margin / 2, footer.format(page=number, pages=len(pages)),
                               size * 0.8, "center"))
    return pages


# ------------------------------------------------------------------ PDF


CID_FONT = "STSong-Light"
FONT_ENV = "GUANXI_PDF_FONT"


def pdf_font(path: str | None = None) -> str:
    """Register and return the font to print with: GUANXI_PDF_FONT's TrueType file, else STSong-Light."""
    from reportlab.pdfbase import pdfmetrics

    path = path if path is not None else os.environ.get(FONT_ENV, "")
    if path:
        from reportlab.pdfbase.ttfonts import TTFont

        name = "GuanxiFont-" + os.path.basename(path)
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        return name
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def font_measure(font: str) -> Measure:
    """A Measure from the font's real widths."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return lambda text, size: stringWidth(text, font, size) * PT


def render_pdf(pages: Sequence[Page], out: IO[bytes], font: str | None = None, title: str = "") -> None:
    """Draw the pages into `out` as one PDF; each page keeps its own size (envelopes, A4)."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    font = font or pdf_font()
    first = pages[0] if pages else Page(*A4)
    pdf = canvas.Canvas(out, pagesize=(first.width * mm, first.height * mm), pageCompression=1)
    pdf.setTitle(title)
    pdf.setCreator("Guanxi")
    for page in pages or [first]:
        pdf.setPageSize((page.width * mm, page.height * mm))
        pdf.setLineWidth(0.5)
        for item in page.items:
            if isinstance(item, Box):
                pdf.setDash(2, 2) if item.dashed else pdf.setDash()
                bottom = (page.height - item.y - item.h) * mm
                if item.h:
                    pdf.rect(item.x * mm, bottom, item.w * mm, item.h * mm, stroke=1, fill=0)
                else:
                    pdf.line(item.x * mm, bottom, (item.x + item.w) * mm, bottom)
            else:
                pdf.setFont(font, item.size)
                y = (page.height - item.y) * mm
                if item.align == "center":
                    pdf.drawCentredString(item.x * mm, y, item.text)
                elif item.align == "right":
                    pdf.drawRightString(item.x * mm, y, item.text)
                else:
                    pdf.drawString(item.x * mm, y, item.text)
        pdf.showPage()
    pdf.save()
