"""NPS results: the figures of planted answers by hand, for each viewer only the answers of the contacts they may
see (page, CSV, the survey list), a bounded number of queries however many answers, and the KPI dashboard's NPS
for a period and its baseline against a hand-computed figure."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.analytics import kpi_services
from guanxi.analytics.kpi_registry import value
from guanxi.customers import services as customers
from guanxi.sales.quota_math import parse_period
from guanxi.service import nps_services
from guanxi.service.nps_models import NpsInvitation, NpsSurvey

from .nps_fixtures import plant

BEIJING = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 3, 10, 10, 0, tzinfo=BEIJING)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def answered(users, nps_book):
    """One survey: 张伟 10, 王芳 9, 刘洋 7, 陈静 3 (rep_a's contacts), 李娜 0 (rep_b's); one e-mail still waiting and
    one contact skipped."""
    survey = NpsSurvey.objects.create(name="春季客户调查", language="zh-hans", created_by=users["admin"])
    for i, (who, score) in enumerate((("zhang", 10), ("wang", 9), ("liu", 7), ("chen", 3), ("li", 0))):
        plant(survey, nps_book[who], score, AT + dt.timedelta(hours=i), reason=f"理由{i} <b>粗体</b>")
    extra = customers.create_contact(users["rep_a"], {"name": "赵磊", "emails": ["zhao@example.cn"],
                                                      "marketing_consent": True})
    NpsInvitation.objects.create(survey=survey, contact=extra, email=extra.email)  # waiting
    quiet = customers.create_contact(users["rep_b"], {"name": "钱多", "marketing_consent": False})
    NpsInvitation.objects.create(survey=survey, contact=quiet, skip_reason="no_consent")
    return survey


def test_the_figures_of_planted_answers(answered, users):
    r = nps_services.results(users["admin"], answered)
    b = r.breakdown
    assert (b.responses, b.promoters, b.passives, b.detractors) == (5, 2, 1, 2)
    assert b.score == Decimal("0.0")  # 40 % − 40 %
    assert [(c, n, share) for c, _label, _scores, n, share in r.category_rows()] == [
        ("promoter", 2, Decimal("40.0")), ("passive", 1, Decimal("20.0")), ("detractor", 2, Decimal("40.0"))]
    assert (r.invited, r.sent, r.pending, r.failed, r.skipped_total) == (6, 5, 1, 0, 1)
    assert r.response_rate == Decimal("100.0") and r.skipped["no_consent"] == 1


def test_each_viewer_counts_only_the_contacts_they_may_see(answered, users):
    def figures(name):
        r = nps_services.results(users[name], answered)
        return r.breakdown.responses, r.breakdown.score, r.invited, r.skipped_total

    assert figures("rep_a") == (4, Decimal("25.0"), 5, 0)  # 10, 9, 7, 3: 50 % − 25 %
    assert figures("manager_a") == (4, Decimal("25.0"), 5, 0)  # their team's
    assert figures("rep_b") == (1, Decimal("-100.0"), 1, 1)
    assert figures("rep_a2") == (0, None, 0, 0)
    names = {r.contact.name for r in nps_services.answers(users["rep_b"], answered)}
    assert names == {"李娜"}
    assert {r.contact.name for r in nps_services.answers(users["rep_a"], answered, "detractor")} == {"陈静"}


def test_the_results_page_and_its_csv(english, client, answered, users):
    client.force_login(users["rep_a"])
    html = client.get(reverse("service:nps_detail", args=[answered.pk])).content.decode()
    assert 'id="nps-score">25.0<' in html and 'id="nps-responses">4<' in html
    assert "陈静" in html and "李娜" not in html
    assert "&lt;b&gt;粗体&lt;/b&gt;" in html and "<b>粗体</b>" not in html  # the customer's words escaped
    assert 'data-category="detractor"' in html and "Call back the detractor 陈静" in html
    detractors = client.get(reverse("service:nps_detail", args=[answered.pk]), {"category": "detractor"},
                            headers={"HX-Request": "true", "HX-Target": "results"}).content.decode()
    assert "陈静" in detractors and "张伟" not in detractors
    bad = client.get(reverse("service:nps_detail", args=[answered.pk]), {"category": "happy", "sort": "name"})
    assert bad.status_code == 400
    response = client.get(reverse("service:nps_csv", args=[answered.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(r["contact"], r["score"], r["category"]) for r in rows] == [
        ("陈静", "3", "detractor"), ("刘洋", "7", "passive"), ("王芳", "9", "promoter"), ("张伟", "10", "promoter")]
    assert rows[0]["account"] == "北京星辰医疗科技有限公司" and rows[0]["follow_up_task_id"]
    assert rows[0]["answered_at"].startswith("2026-03-10T13:00:00")
    assert client.get(reverse("service:nps_csv", args=[answered.pk]), {"category": "x"}).status_code == 400
    listing = client.get(reverse("service:nps_list")).content.decode()
    assert f'data-survey="{answered.pk}"' in listing and ">25.0<" in listing
    assert client.get(reverse("service:nps_detail", args=[answered.pk + 99])).status_code == 404


def test_queries_do_not_grow_with_the_answers(client, answered, users, nps_book, django_assert_max_num_queries):
    client.force_login(users["admin"])
    url = reverse("service:nps_detail", args=[answered.pk])

    def count(path) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    before = (count(url), count(reverse("service:nps_list")))
    rep = users["rep_a"]
    for i in range(12):
        contact = customers.create_contact(rep, {"name": f"客户{i}", "account_ids": [nps_book["a"].pk]})
        plant(answered, contact, i % 11, AT + dt.timedelta(days=1, minutes=i))
        NpsSurvey.objects.create(name=f"调查{i}", language="en")
    assert (count(url), count(reverse("service:nps_list"))) == before
    with django_assert_max_num_queries(11):
        client.get(url)
    client.force_login(rep)  # a rep's visibility look-ups are a few more
    with django_assert_max_num_queries(13):
        client.get(url)


def test_the_kpi_dashboard_counts_answers_by_answer_time_for_what_each_user_sees(users, nps_book):
    s1 = NpsSurvey.objects.create(name="2026 春", language="zh-hans")
    s2 = NpsSurvey.objects.create(name="2026 夏", language="zh-hans")
    s0 = NpsSurvey.objects.create(name="2025 春", language="zh-hans")
    for survey, who, score, when in (
            (s1, "zhang", 10, at(2026, 3, 1, 0, 10)),  # the first minutes of March in Beijing (still Feb in UTC)
            (s1, "wang", 9, at(2026, 3, 10)), (s1, "liu", 8, at(2026, 3, 15)), (s1, "chen", 2, at(2026, 3, 20)),
            (s1, "li", 7, at(2026, 3, 31, 23, 50)),
            (s2, "zhang", 0, at(2026, 4, 1, 0, 30)),  # April in Beijing (still March in UTC): not March's
            (s0, "li", 10, at(2025, 3, 5)), (s0, "zhang", 4, at(2025, 3, 6)), (s0, "wang", 9, at(2025, 3, 7))):
        plant(survey, nps_book[who], score, when)
    march, last_march = parse_period("2026-03"), parse_period("2025-03")

    def nps(name):
        row = next(r for r in kpi_services.dashboard(users[name], march, last_march) if r.kpi.key == "nps")
        return row.value, row.baseline

    # Everyone: March 10, 9, 8, 2, 7 → (2 − 1) / 5 = 20 %; March 2025 10, 4, 9 → (2 − 1) / 3 = 33.3 %.
    assert nps("admin") == (Decimal("20.0"), Decimal("33.3"))
    # rep_a's contacts: 10, 9, 8, 2 → (2 − 1) / 4 = 25 %; 4, 9 → 0 %. rep_b's: 7 → 0 %; 10 → 100 %.
    assert nps("rep_a") == (Decimal("25.0"), Decimal("0.0"))
    assert nps("manager_a") == (Decimal("25.0"), Decimal("0.0"))
    assert nps("rep_b") == (Decimal("0.0"), Decimal("100.0"))
    assert nps("rep_a2") == (None, None)
    assert value("nps", users["admin"], parse_period("2026-04")) == Decimal("-100.0")
    assert value("nps", users["admin"], parse_period("2026-Q1")) == Decimal("20.0")
