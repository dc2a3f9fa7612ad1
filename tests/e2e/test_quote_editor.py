"""The quote editor in a real browser: a product picked from the search gets its list price, the totals are
recalculated by the server as lines are added and changed, and the cross-sell suggestions follow the lines,
without a page reload."""

import pytest

from guanxi.analytics.models import AffinityRule
from guanxi.customers import services as customer_services
from guanxi.sales import catalog_services, quote_services
from guanxi.sales.quote_models import Quote

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_build_a_quote_and_watch_the_totals(new_page, live_server, transactional_db, users):
    manager, rep = users["manager_a"], users["rep_a"]
    server = catalog_services.create_product(manager, {"code": "SRV-740", "name": "服务器 R740", "unit": "unit",
                                                       "tax_rate": "13"})
    prices = catalog_services.create_price_list(manager, {"name": "标准价", "currency": "CNY", "is_default": True})
    catalog_services.set_price(manager, prices, {"product_id": server.pk, "unit_price": "28000"})
    rack = catalog_services.create_product(manager, {"code": "RACK-42", "name": "机柜 42U", "unit": "unit"})
    AffinityRule.objects.create(product=server, suggested=rack, support=0.1, confidence=0.8, lift=3.0, orders=40)
    account = customer_services.create_account(rep, {"name": "北京星辰医疗科技有限公司"})
    quote = quote_services.create_quote(rep, {"account_id": account.pk})

    page = new_page()
    log_in(page, "rep_a")
    page.goto(f"/sales/quotes/{quote.pk}/")
    expect(page.locator("#cross-sell")).to_be_attached()
    expect(page.locator("#cross-sell-card")).to_have_count(0)  # no lines yet, nothing to suggest
    page.fill("#product-q", "R740")
    page.click(".product-option")
    page.fill("#line-quantity", "2")
    page.click("#add-line")
    expect(page.locator("#total-gross")).to_have_text("63280.00")  # 2 × 28,000 + 13 %
    # Customers who bought the server also bought the rack: suggested as soon as the server is on the quote.
    expect(page.locator(f"#cross-sell-card [data-product='{rack.pk}']")).to_contain_text("机柜 42U")
    # Change the quantity in the table: the server recalculates on change.
    row = page.locator("#line-table tbody tr").first
    row.locator("input[name=quantity]").fill("3")
    row.locator("input[name=quantity]").press("Tab")
    expect(page.locator("#total-gross")).to_have_text("94920.00")
    page.fill("#line-description", "运费")
    page.fill("#line-price", "300")
    page.fill("#line-quantity", "1")
    page.click("#add-line")
    expect(page.locator("#total-gross")).to_have_text("95220.00")  # free text: no tax unless given
    assert Quote.objects.get(pk=quote.pk).gross_total == 95220
