"""The Performance page and the quota settings page: what each role sees, the settings form's errors by field,
and a number of queries that does not depend on the rows."""

import re

import pytest

from guanxi.sales.models import Quota
from tests.sales import performance_book

pytestmark = pytest.mark.django_db
book, make_opp = performance_book.book, performance_book.make_opp


def test_performance_page(client, book, users, django_assert_max_num_queries):
    client.force_login(users["manager_a"])
    # A constant number (no query per row): leaderboard, teams, funnel, three year-on-year measures, and the base
    # currency (made on first use) and exchange rates for the amounts in other currencies.
    with django_assert_max_num_queries(34):
        page = client.get("/sales/performance/", {"period": "2031-03"}).content.decode()
    assert 'id="nav-performance"' in page and "rep_a2" in page and "rep_b" not in page
    assert "133.3 %" in page and "华北销售" in page and "公司" not in page.split('id="team-attainment"')[1][:2000]
    assert 'id="yoy-CNY"' in page and 'id="quota-settings-link"' in page
    assert 'data-unconverted="USD"' in page  # rep_a's USD deal: no rate, shown as not counted
    client.force_login(users["rep_b"])
    page = client.get("/sales/performance/", {"period": "2031-Q1"}).content.decode()
    assert "rep_b" in page and "rep_a2" not in page and 'id="team-attainment"' not in page
    assert 'id="quota-settings-link"' not in page
    bad = client.get("/sales/performance/", {"period": "2031-Q9", "year": "0"})
    assert bad.status_code == 200 and 'id="period-errors"' in bad.content.decode()


def test_quota_settings(client, users, teams):
    client.force_login(users["rep_a"])
    assert client.get("/settings/quotas/").status_code == 403
    client.force_login(users["manager_a"])
    page = client.get("/settings/quotas/", {"year": 2031}).content.decode()
    assert f'value="user:{users["rep_a"].pk}"' in page and f'value="user:{users["rep_b"].pk}"' not in page
    form = {
        "action": "set",
        "target": f"user:{users['rep_a'].pk}",
        "kind": "quarter",
        "start": "2031-04-01",
        "amount": "90000",
        "currency": "CNY",
        "year": "2031",
    }
    assert client.post("/settings/quotas/", form).status_code == 302
    assert client.post("/settings/quotas/", {**form, "amount": "95000"}).status_code == 302  # the same period
    quota = Quota.objects.get()
    assert str(quota.amount) == "95000.00"
    page = client.post("/settings/quotas/", {**form, "start": "2031-05-01", "amount": "-5"}).content.decode()
    assert set(re.findall(r'data-field="(\w+)"', page)) == {"start", "amount"}
    assert (
        client.post(
            "/settings/quotas/",
            {"action": "monthly", "user_ids": [users["rep_a2"].pk], "year": "2031", "amount": "1000"},
        ).status_code
        == 302
    )
    assert Quota.objects.count() == 13
    assert client.post("/settings/quotas/", {"action": "delete", "quota_id": quota.pk}).status_code == 302
    assert not Quota.objects.filter(pk=quota.pk).exists()
    other = Quota.objects.first()
    client.force_login(users["manager_b"] if "manager_b" in users else users["admin"])
    assert client.get("/settings/quotas/", {"year": 2031}).content.decode().count("data-quota=") == 12
    assert other is not None
