"""Analytics in a real browser: clicking a 7P chart's line point or bar opens the records behind it (in Chinese
and in English), and running a retention playbook from the value × risk grid creates the owners' tasks."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.analytics.models import CustomerScore
from guanxi.analytics.playbook_models import PlaybookAction
from guanxi.analytics.playbook_services import playbooks
from guanxi.customers.models import Account, Contact
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Order, OrderLine

from .test_browser import expect, log_in, switch_language

pytestmark = [pytest.mark.e2e]


def click_point(page, key: str, series: int, index: int) -> None:
    """Click where ECharts drew the point `index` of `series` in the chart `key` (a line's point, the middle
    of a bar), once the chart has finished drawing."""
    chart = page.locator(f"#chart-{key} .echart")
    expect(chart).to_have_attribute("data-ready", "1")
    x, y = page.evaluate(
        """([key, series, index]) => {
            const chart = echarts.getInstanceByDom(document.querySelector(`#chart-${key} .echart`));
            const bar = chart.getModel().getSeriesByIndex(series).getData().getItemLayout(index);
            const value = chart.getOption().series[series].data[index].value;
            // A bar's rectangle (beside the other series' bars); a line keeps no layout per point.
            return bar ? [bar.x + bar.width / 2, bar.y + bar.height / 2]
                       : chart.convertToPixel({seriesIndex: series}, [index, value]);
        }""", [key, series, index])
    chart.locator("canvas").click(position={"x": x, "y": y})


def open_chart(new_page, name: str, language: str):
    """rep_a's page of the 7P chart `name`, in `language` (Chinese is the default)."""
    page = new_page()
    log_in(page, "rep_a")
    if language != "zh-hans":
        switch_language(page, language)
    page.goto(f"/analytics/charts/{name}/")
    return page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_products_point_opens_its_orders_of_the_month(new_page, live_server, transactional_db, users,
                                                        language):
    rep = users["rep_a"]
    month = timezone.localdate().replace(day=1)
    last_month = (month - dt.timedelta(days=1)).replace(day=1)
    pen, ink = (Product.objects.create(code=code, name=name) for code, name in (("P1", "钢笔"), ("P2", "墨水")))
    account = Account.objects.create(name="北京星辰医疗", owner=rep, team=rep.team)
    others = Account.objects.create(name="上海别队贸易", owner=users["rep_b"], team=users["rep_b"].team)
    orders = {}
    for number, who, day, products in (("A1", account, month, [pen]), ("A2", account, month, [pen, ink]),
                                       ("A3", account, last_month, [pen]), ("A4", account, last_month, [ink]),
                                       ("B1", others, month, [pen])):
        order = Order.objects.create(number=number, account=who, owner=who.owner, team=who.team, ordered_on=day,
                                     net_total=Decimal("100"), gross_total=Decimal("113"))
        for i, product in enumerate(products):
            OrderLine.objects.create(order=order, position=i, product=product, description=product.name,
                                     quantity=Decimal("1"), unit_price=Decimal("100"))
        orders[number] = order
    page = open_chart(new_page, "product", language)
    # The pen is ordered most (three of rep_a's orders; B1 is another team's): the first line, whose last
    # point is this month's two orders (the ink's, one, lies below it).
    click_point(page, "product", 0, 11)
    page.wait_for_url(f"**/analytics/orders/?month={month:%Y-%m}&product={pen.pk}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#month-orders tbody tr[data-order]")).to_have_count(2)
    for number in ("A1", "A2"):
        expect(page.locator(f"#month-orders tr[data-order='{orders[number].pk}']")).to_be_visible()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_promotion_bars_open_the_targeted_accounts_and_the_contacts_by_consent(
        new_page, live_server, transactional_db, users, language):
    rep = users["rep_a"]
    playbook = playbooks()[("high", "high")]
    mine = [Account.objects.create(name=f"星辰{i}", owner=rep, team=rep.team) for i in range(3)]
    theirs = Account.objects.create(name="别队", owner=users["rep_b"], team=users["rep_b"].team)
    PlaybookAction.objects.bulk_create([PlaybookAction(playbook=playbook, account=a) for a in [*mine, theirs]])
    Contact.objects.bulk_create([Contact(name=f"联系人{i}", owner=rep, team=rep.team, marketing_consent=i < 2)
                                 for i in range(5)])
    page = open_chart(new_page, "promotion", language)
    click_point(page, "playbooks", 0, 0)
    page.wait_for_url(f"**/analytics/playbooks/{playbook.pk}/accounts/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#playbook-accounts [data-account]")).to_have_count(3)

    page.go_back()
    click_point(page, "consent", 0, 1)  # the contacts who gave no consent
    page.wait_for_url("**/contacts/?marketing_consent=no")
    expect(page.locator("#contact-table tbody tr[data-id]")).to_have_count(3)


def test_running_a_playbook_from_the_grid_creates_the_owners_tasks_once(new_page, live_server, transactional_db,
                                                                         users):
    from guanxi.activities.models import Task

    rep, other = users["rep_a"], users["rep_b"]
    now = timezone.now()
    mine = [Account.objects.create(name=f"星辰{i}", owner=rep, team=rep.team) for i in range(3)]
    theirs = Account.objects.create(name="别队", owner=other, team=other.team)
    CustomerScore.objects.bulk_create([
        CustomerScore(account=a, as_of=now.date(), recency_days=200, frequency=9, monetary=9000, r_score=1,
                      f_score=5, m_score=5, segment="important_retain", churn_risk=0.8, value_band="high",
                      risk_band="high", scored_at=now) for a in [*mine, theirs]])
    page = new_page()
    log_in(page, "rep_a")
    page.goto("/analytics/")
    expect(page.locator("#cell-high-high")).to_have_attribute("data-count", "3")
    page.click("#run-high-high")
    result = page.locator("#run-result-high-high #run-result")
    expect(result).to_have_attribute("data-created", "3")
    expect(result.locator("li[data-task]")).to_have_count(3)
    for account in mine:
        expect(result.locator(f"a[href='/accounts/{account.pk}/']")).to_be_visible()
    tasks = Task.objects.filter(account__in=[*mine, theirs])
    assert sorted(tasks.values_list("account_id", "owner_id")) == [(a.pk, rep.pk) for a in mine]

    page.click("#run-high-high")  # again: every account already has its open task
    expect(result).to_have_attribute("data-skipped", "3")
    expect(result).to_have_attribute("data-created", "0")
    assert tasks.count() == 3

    due = timezone.localtime(tasks.first().at).date()
    page.goto(f"/agenda/?date={due:%Y-%m-%d}")
    for task in tasks:
        expect(page.locator(f"[data-task='{task.pk}']")).to_contain_text(task.title)


def test_a_products_target_customers_become_a_call_list_and_a_segment(new_page, live_server, transactional_db,
                                                                      users):
    from guanxi.activities.models import Task

    rep, other = users["rep_a"], users["rep_b"]
    printer, paper, ink = (Product.objects.create(code=c, name=n) for c, n in (("T", "打印机"), ("A", "纸张"),
                                                                                ("B", "墨盒")))
    accounts = {}
    for i, (name, owner, bought) in enumerate([("b1", rep, [paper, printer]), ("b2", rep, [ink, printer]),
                                               ("c1", rep, [paper, ink]), ("c2", rep, [paper]),
                                               ("c3", other, [paper, ink]), ("x", rep, [])]):
        account = accounts[name] = Account.objects.create(name=f"客户 {name}", owner=owner, team=owner.team)
        if bought:
            order = Order.objects.create(number=f"P{i}", account=account, owner=owner, team=owner.team,
                                         ordered_on=timezone.localdate(), net_total=Decimal(100),
                                         gross_total=Decimal(100))
            OrderLine.objects.bulk_create([OrderLine(order=order, product=p, description=p.name, quantity=1,
                                                     unit_price=Decimal(10)) for p in bought])
    page = new_page()
    log_in(page, "rep_a")
    page.goto("/sales/products/")
    page.click(f"a[href='/analytics/products/{printer.pk}/targets/']")
    page.fill("#ptc-top", "2")
    page.click("#ptc-form button[type=submit]")
    # Who bought paper and ink like the printer's buyers, ranked, and only rep_a's: c1 (both) before c2.
    rows = page.locator("#ptc-table tbody tr[data-account]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-account", str(accounts["c1"].pk))
    expect(rows.nth(1)).to_have_attribute("data-account", str(accounts["c2"].pk))

    page.click("#ptc-call-list")
    expect(page.locator("#messages .alert-success")).to_contain_text("2")
    tasks = Task.objects.filter(account__in=accounts.values())
    assert sorted(tasks.values_list("account_id", "owner_id")) == sorted(
        [(accounts["c1"].pk, rep.pk), (accounts["c2"].pk, rep.pk)])

    page.fill("#ptc-actions input[name=tag]", "打印机潜客")
    page.click("#ptc-segment")
    expect(page.locator("#messages .alert-success")).to_contain_text("2")
    assert set(Account.objects.filter(tags__name="打印机潜客").values_list("pk", flat=True)) == {
        accounts["c1"].pk, accounts["c2"].pk}
