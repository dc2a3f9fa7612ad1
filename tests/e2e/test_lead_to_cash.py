"""The whole lead-to-cash path in a real browser, as a sales rep, through the pages only: a new lead is
converted into account + contact + opportunity without retyping, the opportunity is dragged to the won stage
on the kanban board, a quote is built from the catalogue and its PDF read back, the customer accepts it, the
order ships in two deliveries and is paid in two instalments, and the rep's attainment moves. Setup makes
only what an administrator or a manager would have made before: users, the pipeline, the catalogue with its
price list and the rep's quota."""

import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from guanxi.sales import catalog_services, quota_services
from guanxi.sales import services as sales_services
from guanxi.sales.lead_models import Lead, LeadStatus
from guanxi.sales.models import StageKind
from guanxi.sales.quote_models import Order, OrderStatus, Quote, QuoteStatus

from .test_browser import expect, log_in
from .test_pipeline import drag_card

pytestmark = [pytest.mark.e2e]

PRODUCT = "服务器 PowerEdge R750"


@pytest.fixture
def sales_setup(users):
    """The default pipeline, a product in the default CNY price list, rep_a's quota for this month (twice the
    deal: the win is worth 50 %)."""
    manager, admin = users["manager_a"], users["admin"]
    pipeline = sales_services.default_pipeline()
    product = catalog_services.create_product(manager, {"code": "SRV-R750", "name": PRODUCT, "unit": "unit",
                                                        "tax_rate": "13"})
    prices = catalog_services.create_price_list(manager, {"name": "标准价", "currency": "CNY", "is_default": True})
    catalog_services.set_price(manager, prices, {"product_id": product.pk, "unit_price": "25000.00"})
    month = timezone.localdate().replace(day=1)
    quota_services.create_quota(admin, {"user_id": users["rep_a"].pk, "kind": "month", "start": month.isoformat(),
                                        "amount": "226000", "currency": "CNY"})
    return pipeline


def test_lead_to_cash_in_the_browser(new_page, live_server, transactional_db, users, sales_setup):
    rep = users["rep_a"]
    stages = list(sales_setup.stages.order_by("position"))
    first = stages[0]
    won = next(s for s in stages if s.kind == StageKind.WON)
    page = new_page(viewport={"width": 1800, "height": 900})  # every board column in view: no scrolling mid-drag
    log_in(page, "rep_a")

    # Attainment before: nothing won yet.
    page.click("#nav-sales")
    page.click("#nav-performance")
    attainment = page.locator(f"#leaderboard tr[data-user='{rep.pk}'] [data-attainment]")
    expect(attainment).to_have_text("0.0 %")

    # A new lead, typed once.
    page.click("#nav-leads")
    page.click("#new-lead")
    page.fill("#id_name", "王芳")
    page.fill("#id_company", "上海瑞金医院信息中心")
    page.fill("#id_title", "信息科主任")
    page.fill("#id_phone", "139 1234 5678")
    page.fill("#id_email", "wang.fang@ruijin.example.cn")
    page.select_option("#id_source", "exhibition")
    page.click("#save-record")
    expect(page.locator("#record-name")).to_contain_text("王芳")
    lead = Lead.objects.get(name="王芳")

    # Converted: the form is filled from the lead; only the deal's amount is new.
    page.click("#convert-lead")
    expect(page.locator("#id_account_name")).to_have_value("上海瑞金医院信息中心")
    expect(page.locator("#id_opportunity_name")).to_have_value("上海瑞金医院信息中心 · 王芳")
    page.fill("#id_amount", "113000")
    page.click("#convert-button")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    opp = lead.converted_opportunity
    page.wait_for_url(f"**/sales/opportunities/{opp.pk}/")
    expect(page.locator("#record-name")).to_contain_text("上海瑞金医院信息中心 · 王芳")
    account, contact = lead.converted_account, lead.converted_contact
    assert account.name == "上海瑞金医院信息中心" and account.source == "exhibition"
    assert (contact.name, contact.title, contact.phone, contact.email) == (
        "王芳", "信息科主任", "+8613912345678", "wang.fang@ruijin.example.cn")
    assert contact.accounts.filter(pk=account.pk).exists()
    assert (opp.account_id, opp.contact_id, opp.owner_id, opp.amount) == (account.pk, contact.pk, rep.pk,
                                                                          Decimal("113000.00"))
    assert opp.stage_id == first.pk

    # Won on the board: dragged from its first stage to the won column.
    page.click("#nav-pipeline")
    expect(page.locator(f"#column-{first.pk} #card-{opp.pk}")).to_be_visible()
    expect(page.locator(f"#column-{won.pk} [data-count]")).to_have_text("0")
    drag_card(page, opp.pk, won.pk)
    expect(page.locator(f"#column-{won.pk} [data-count]")).to_have_text("1")
    page.reload()
    expect(page.locator(f"#column-{won.pk} #card-{opp.pk}")).to_be_visible()
    expect(page.locator(f"#column-{first.pk} [data-count]")).to_have_text("0")
    opp.refresh_from_db()
    assert (opp.stage_id, opp.status) == (won.pk, StageKind.WON) and opp.closed_at is not None

    # The formal quote, opened from the won deal, with a line from the catalogue.
    page.click(f"#card-{opp.pk} a")
    page.wait_for_url(f"**/sales/opportunities/{opp.pk}/")
    page.click("#new-quote")
    expect(page.locator("#id_opportunity_id")).to_have_value(str(opp.pk))
    expect(page.locator("#id_contact_id")).to_have_value(str(contact.pk))
    page.fill("#id_title", "服务器采购报价")
    page.click("#save-quote")
    quote = Quote.objects.get(opportunity=opp)
    page.wait_for_url(f"**/sales/quotes/{quote.pk}/")
    page.fill("#product-q", "R750")
    page.click(".product-option")
    page.fill("#line-quantity", "4")
    page.click("#add-line")
    expect(page.locator("#total-gross")).to_have_text(re.compile(r"^113,?000\.00$"))  # 4 × 25,000 + 13 %
    quote.refresh_from_db()
    assert (quote.account_id, quote.contact_id, quote.gross_total) == (account.pk, contact.pk, Decimal("113000"))

    # The PDF, fetched as the rep's browser would (same session): number, the Chinese product name, the total.
    pdf_url = page.get_attribute("#quote-pdf", "href")
    response = page.request.get(pdf_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert quote.number in text and PRODUCT in text and "113,000.00" in text

    # Emailed to the contact the lead became, then accepted by the customer: the order.
    expect(page.locator("#send-to")).to_have_value("wang.fang@ruijin.example.cn")
    page.click("#send-quote")
    expect(page.locator("#accept-quote")).to_be_visible()
    assert [m.to for m in mail.outbox] == [["wang.fang@ruijin.example.cn"]]
    page.click("#accept-quote")
    order = Order.objects.get(quote=quote)
    page.wait_for_url(f"**/sales/orders/{order.pk}/")
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED
    assert (order.opportunity_id, order.account_id, order.gross_total) == (opp.pk, account.pk, Decimal("113000"))

    # Two shipments: 3 servers, then the last one as the form offers it.
    (line,) = order.lines.all()
    page.fill(f"#qty-{line.pk}", "3")
    page.fill("#ship-carrier", "顺丰速运")
    page.click("#record-delivery")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "partial")
    expect(page.locator(f"#qty-{line.pk}")).to_have_value("1")
    page.click("#record-delivery")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "delivered")
    expect(page.locator("#deliveries [data-delivery]")).to_have_count(2)
    expect(page.locator("#delivery-form")).to_have_count(0)

    # Paid in two instalments.
    page.fill("#plan-count", "2")
    page.click("#make-plan")
    expect(page.locator("#instalments tbody tr")).to_have_count(2)
    expect(page.locator("#outstanding")).to_have_text(re.compile(r"^113,?000\.00$"))
    for left in (r"^56,?500\.00$", r"^0\.00$"):
        page.fill("#pay-amount", "56500.00")
        page.click("#record-payment")
        expect(page.locator("#outstanding")).to_have_text(re.compile(left))
    expect(page.locator("#instalments [data-status='paid']")).to_have_count(2)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED

    # Attainment after: the won deal is half the month's quota.
    page.click("#nav-sales")
    page.click("#nav-performance")
    expect(attainment).to_have_text("50.0 %")

    page.click("#nav-sales")  # the dropdown opens before its items can be clicked
    page.click("#nav-receivables")
    expect(page.locator("#aging-table")).to_contain_text("0.00")
