"""Demo catalogue, price lists (CNY and USD), quotes and orders.

A small bilingual catalogue with a bundle; quotes for some open opportunities in the later stages (drafts and
sent ones, one revised), and accepted quotes with their orders for some won opportunities. Rows are written
directly (like the other bulk demo rows, without audit entries); amounts follow `sales.pricing`.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from . import pricing
from .catalog_models import BundleComponent, PriceList, PriceListItem, Product, ProductCategory, ProductKind
from .models import Opportunity, StageKind
from .quote_models import CompanyProfile, Order, OrderLine, Quote, QuoteLine, QuoteStatus
from .quote_services import LINE_COPY, next_number

# (code, name, category, kind, unit, tax rate, CNY price, cost)
PRODUCTS = [
    ("HW-SRV-740", "服务器 PowerEdge R740 / Rack server", "硬件 Hardware", "goods", "unit", 13, 28000, 21000),
    ("HW-SW-48", "千兆交换机 48 口 / 48-port switch", "硬件 Hardware", "goods", "unit", 13, 6800, 4900),
    ("HW-NAS-8", "网络存储 NAS 8 盘位 / 8-bay NAS", "硬件 Hardware", "goods", "unit", 13, 15800, 11800),
    ("HW-CBL-5", "超六类网线 5 米 / Cat6A cable 5 m", "硬件 Hardware", "goods", "piece", 13, 45, 18),
    ("SW-CRM-USER", "关系 CRM 用户许可 / CRM user licence", "软件 Software", "goods", "licence", 13, 1200, 0),
    ("SW-CLOUD-Y", "云服务订阅（年）/ Cloud subscription (year)", "软件 Software", "service", "year", 6, 36000, 14000),
    ("SV-INST", "实施服务 / Implementation", "服务 Services", "service", "day", 6, 2500, 1200),
    ("SV-TRAIN", "培训服务 / Training", "服务 Services", "service", "hour", 6, 600, 250),
    ("SV-MAINT", "年度维保 / Annual maintenance", "服务 Services", "service", "year", 6, 9800, 4000),
]
BUNDLE = ("KIT-ROOM", "机房套装 / Server room kit", "unit", 13, 52000,
          [("HW-SRV-740", 1), ("HW-SW-48", 2), ("HW-CBL-5", 20), ("SV-INST", 3)])
USD_RATE = Decimal("7.1")  # demo list prices in USD, rounded to whole dollars
TERMS = ("付款方式：合同签订后 30 天内付清；交货期：收到款项后 15 个工作日。\n"
         "Payment within 30 days; delivery 15 working days after payment.")


def create_demo_catalog() -> dict[str, Product]:
    """The catalogue and its two price lists (once: a second demo load leaves them as they are)."""
    if Product.objects.filter(code=BUNDLE[0]).exists():
        return {p.code: p for p in Product.objects.all()}
    profile = CompanyProfile.current()
    if not profile.name:
        profile.name = "关系软件（上海）有限公司 Guanxi Software (Shanghai) Ltd."
        profile.address = "上海市浦东新区世纪大道 100 号 20 楼 200120"
        profile.phone, profile.email = "+86 21 5000 0000", "sales@guanxi.example"
        profile.tax_id, profile.quote_terms = "91310115MA1K000000", TERMS
        profile.save()
    categories = {name: ProductCategory.objects.get_or_create(name=name, parent=None)[0]
                  for name in dict.fromkeys(p[2] for p in PRODUCTS)}
    products = {}
    for code, name, category, kind, unit, rate, _price, cost in PRODUCTS:
        products[code] = Product.objects.create(code=code, name=name, category=categories[category], kind=kind,
                                                unit=unit, tax_rate=Decimal(rate), cost=Decimal(cost))
    code, name, unit, rate, _price, components = BUNDLE
    products[code] = Product.objects.create(code=code, name=name, kind=ProductKind.BUNDLE, unit=unit,
                                            tax_rate=Decimal(rate))
    BundleComponent.objects.bulk_create([BundleComponent(bundle=products[code], product=products[c], quantity=q)
                                         for c, q in components])
    cny = PriceList.objects.create(name="标准价目表 Standard", currency="CNY", is_default=True)
    usd = PriceList.objects.create(name="Export price list", currency="USD", is_default=True)
    prices = [(c, p) for c, *_rest, p, _cost in PRODUCTS] + [(BUNDLE[0], BUNDLE[4])]
    items = []
    for code, price in prices:
        items.append(PriceListItem(price_list=cny, product=products[code], unit_price=price))
        items.append(PriceListItem(price_list=usd, product=products[code],
                                   unit_price=(Decimal(price) / USD_RATE).quantize(Decimal(1))))
    # Volume tiers on cables and licences.
    items.append(PriceListItem(price_list=cny, product=products["HW-CBL-5"], unit_price=38, min_quantity=100))
    items.append(PriceListItem(price_list=cny, product=products["SW-CRM-USER"], unit_price=1000, min_quantity=50))
    PriceListItem.objects.bulk_create(items)
    return products


def _lines(rng: random.Random, products: dict[str, Product], prices: dict[int, Decimal]) -> list[QuoteLine]:
    picked = rng.sample(list(products.values()), rng.randint(1, 4))
    out = []
    for n, product in enumerate(picked):
        quantity = Decimal(rng.choice([1, 1, 2, 3, 5, 10, 20]))
        discount = Decimal(rng.choice([0, 0, 0, 5, 10, 12]))
        out.append(QuoteLine(position=n, product=product, description=product.name, quantity=quantity,
                             unit=product.get_unit_display(), unit_price=prices[product.pk], discount=discount,
                             tax_rate=product.tax_rate))
    return out


def _priced(quote: Quote, lines: list[QuoteLine]) -> None:
    result = pricing.totals([pricing.Line(ln.quantity, ln.unit_price, quote.currency, ln.discount, ln.tax_rate)
                             for ln in lines], quote.currency)
    for ln, a in zip(lines, result.lines, strict=True):
        ln.net, ln.tax, ln.gross = a.net, a.tax, a.gross
    quote.net_total, quote.tax_total, quote.gross_total = result.net, result.tax, result.gross
    quote.max_discount = max((ln.discount for ln in lines), default=Decimal(0))


def create_demo_quotes(seed: int, first_account_id: int, today: dt.date, limit: int = 60) -> int:
    """Quotes for up to `limit` opportunities of the accounts the demo just made; returns how many."""
    rng = random.Random(f"quotes-{seed}")
    products = create_demo_catalog()
    cny = PriceList.objects.get(currency="CNY", is_default=True)
    prices = dict(cny.items.filter(min_quantity=1).values_list("product_id", "unit_price"))
    candidates = list(Opportunity.objects.filter(account_id__gte=first_account_id, currency="CNY")
                      .exclude(status=StageKind.LOST).select_related("stage")
                      .order_by("pk")[: limit * 4])
    picked = [o for o in candidates if o.status == StageKind.WON or o.stage.probability >= 40]
    rng.shuffle(picked)
    now = timezone.now()
    made = 0
    for opp in sorted(picked[:limit], key=lambda o: o.pk):
        won = opp.status == StageKind.WON
        status = QuoteStatus.ACCEPTED if won else rng.choice([QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.SENT])
        quote = Quote(number=next_number("Q"), title=opp.name, opportunity=opp, account_id=opp.account_id,
                      contact_id=opp.contact_id, currency="CNY", price_list=cny, status=status,
                      valid_until=today + dt.timedelta(days=rng.randint(5, 30)), terms=TERMS,
                      owner_id=opp.owner_id, team_id=opp.team_id)
        quote.sent_at = None if status == QuoteStatus.DRAFT else now - dt.timedelta(days=rng.randint(1, 20))
        lines = _lines(rng, products, prices)
        _priced(quote, lines)
        if status == QuoteStatus.SENT and rng.random() < 0.3:  # an earlier version, superseded by this one
            first = Quote(**{f.attname: getattr(quote, f.attname) for f in Quote._meta.concrete_fields
                             if f.attname != "id"})
            first.status = QuoteStatus.SUPERSEDED
            first.save()
            QuoteLine.objects.bulk_create([QuoteLine(quote=first, **{k: getattr(ln, k) for k in LINE_COPY})
                                           for ln in lines])
            quote.previous, quote.revision = first, 2
        quote.save()
        for ln in lines:
            ln.quote = quote
        QuoteLine.objects.bulk_create(lines)
        if won:
            quote.decided_at = now
            quote.save(update_fields=["decided_at"])
            order = Order.objects.create(
                number=next_number("SO"), quote=quote, opportunity=opp, account_id=opp.account_id,
                contact_id=opp.contact_id, currency="CNY", ordered_on=(opp.closed_at or now).date(),
                net_total=quote.net_total, tax_total=quote.tax_total, gross_total=quote.gross_total,
                owner_id=opp.owner_id, team_id=opp.team_id)
            OrderLine.objects.bulk_create([OrderLine(order=order, **{k: getattr(ln, k) for k in LINE_COPY})
                                           for ln in lines])
        made += 1
    return made
