"""The KPI dashboard in a real browser: every KPI with data draws its ECharts trend (a canvas), the phone
figures say "no data", and an administrator's target turns the status dot."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.customers.models import Account
from guanxi.sales.quote_models import Order

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_dashboard_draws_its_charts_and_takes_a_target(new_page, live_server, transactional_db, users):
    rep = users["rep_a"]
    account = Account.objects.create(name="北京星辰医疗", owner=rep, team=rep.team)
    today = timezone.localdate()
    for i, day in enumerate((today, today.replace(day=1), today - dt.timedelta(days=62))):
        Order.objects.create(number=f"E{i}", account=account, owner=rep, team=rep.team, ordered_on=day,
                             net_total=Decimal("1000"), gross_total=Decimal("1000"))
    page = new_page()
    log_in(page, "admin")
    page.goto("/analytics/")
    page.click("#nav-kpis")
    expect(page.locator("#kpi-revenue .kpi-value")).to_have_text("2000.00")
    expect(page.locator("#kpi-orders .kpi-trend canvas")).to_have_count(1)
    charts = page.locator(".kpi-trend")
    assert charts.count() == 4  # orders, opportunities created and won (counts: 0 is a figure), revenue
    for i in range(charts.count()):
        expect(charts.nth(i).locator("canvas")).to_have_count(1)
    expect(page.locator("#kpi-queue_seconds .kpi-no-data")).to_be_visible()
    expect(page.locator("#kpi-revenue")).to_have_attribute("data-status", "none")
    page.fill("#kpi-revenue input[name=target]", "5000")
    page.click("#kpi-revenue button[type=submit]")
    expect(page.locator("#kpi-revenue")).to_have_attribute("data-status", "bad")
    expect(page.locator("#kpi-revenue .kpi-dot")).to_have_class(re.compile("bg-danger"))
