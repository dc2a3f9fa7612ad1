"""The end of the lead-to-cash path in a real browser: the customer accepts the quote (the opportunity is won and
the rep's attainment moves), the order ships in two deliveries and is paid in two instalments, and the
receivables report is reached from the Sales menu."""

import re

import pytest
from django.utils import timezone

from guanxi.customers import services as customer_services
from guanxi.sales import quota_services, quote_services
from guanxi.sales import services as sales_services
from guanxi.sales.quote_models import Order

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_accept_deliver_twice_collect_twice(new_page, live_server, transactional_db, users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep = users["rep_a"]
    account = customer_services.create_account(rep, {"name": "北京星辰医疗科技有限公司"})
    opp = sales_services.create_opportunity(rep, {"name": "机房扩容", "account_id": account.pk, "amount": "16070"})
    month = timezone.localdate().replace(day=1)
    quota_services.create_quota(users["admin"], {"user_id": rep.pk, "kind": "month", "start": month.isoformat(),
                                                 "amount": "32140", "currency": "CNY"})
    quote = quote_services.create_quote(rep, {"opportunity_id": opp.pk, "currency": "CNY", "lines": [
        {"description": "服务器", "quantity": "10", "unit_price": "1000.00", "tax_rate": "13"},
        {"description": "实施服务", "quantity": "3", "unit_price": "1500.00", "tax_rate": "6"}]})
    quote = quote_services.send_quote(rep, quote, quote.version, to="buyer@example.com")

    page = new_page()
    log_in(page, "rep_a")
    page.goto("/sales/performance/")
    row = page.locator(f"#leaderboard tr[data-user='{rep.pk}']")
    expect(row.locator("[data-attainment]")).to_have_text("0.0 %")

    page.goto(f"/sales/quotes/{quote.pk}/")
    page.click("#accept-quote")
    order = Order.objects.get(quote=quote)
    page.wait_for_url(f"**/sales/orders/{order.pk}/")
    servers, install = order.lines.order_by("position")
    # First shipment: 4 of the 10 servers, no installation yet.
    page.fill(f"#qty-{servers.pk}", "4")
    page.fill(f"#qty-{install.pk}", "")
    page.fill("#ship-carrier", "顺丰速运")
    page.click("#record-delivery")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "partial")
    expect(page.locator(f"#qty-{servers.pk}")).to_have_value("6")
    # Second shipment: the rest, as the form offers it.
    page.click("#record-delivery")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "delivered")
    expect(page.locator("#deliveries [data-delivery]")).to_have_count(2)
    expect(page.locator("#delivery-form")).to_have_count(0)

    page.fill("#plan-count", "2")
    page.click("#make-plan")
    expect(page.locator("#instalments tbody tr")).to_have_count(2)
    expect(page.locator("#outstanding")).to_have_text(re.compile(r"^16,?070\.00$"))
    for amount, left in (("8035.00", r"^8,?035\.00$"), ("8035.00", r"^0\.00$")):
        page.fill("#pay-amount", amount)
        page.click("#record-payment")
        expect(page.locator("#outstanding")).to_have_text(re.compile(left))
    expect(page.locator("#instalments [data-status='paid']")).to_have_count(2)

    page.goto("/sales/performance/")
    expect(page.locator(f"#leaderboard tr[data-user='{rep.pk}'] [data-attainment]")).to_have_text("50.0 %")

    page.click("#nav-sales")  # the dropdown opens before its items can be clicked
    page.click("#nav-receivables")
    expect(page.locator("#aging-table")).to_contain_text("0.00")
