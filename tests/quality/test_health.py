"""The data-health page and API: figures on a small known dataset, per user, each linking to its list."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from guanxi.core.services import issue_token
from guanxi.customers import services
from guanxi.customers.filters import apply_filters
from guanxi.customers.models import Account, Address, Contact, ContactMethod
from guanxi.quality import health
from guanxi.quality.models import DuplicatePair

pytestmark = pytest.mark.django_db


def _age(obj, days: int) -> None:
    # QuerySet.update leaves auto_now alone: the record looks untouched for `days`.
    type(obj).objects.filter(pk=obj.pk).update(updated_at=timezone.now() - dt.timedelta(days=days))


@pytest.fixture
def data(users):
    """rep_a: 3 contacts (one complete, one bare and 400 days old, one with a legacy invalid phone and email
    and 200 days old), 2 accounts, an open pair; rep_b (team B): 2 contacts and an account that must not count."""
    rep_a, rep_b = users["rep_a"], users["rep_b"]
    full_account = services.create_account(rep_a, {
        "name": "杭州云图数据有限公司", "industry": "it", "size": "10-49", "classification": "B",
        "phone": "0571 8888 1234", "website": "yuntu.cn"})
    Address.objects.create(account=full_account, city="杭州")
    bare_account = services.create_account(rep_a, {"name": "深圳海风贸易"})
    complete = services.create_contact(rep_a, {
        "name": "周建国", "title": "总经理", "account_ids": [full_account.pk], "phones": ["139 1111 2222"],
        "emails": ["zhou@yuntu.cn"], "birthday": "1975-05-06"})
    Address.objects.create(contact=complete, city="杭州")
    # Mail to this address bounced: the email channel marks the address undeliverable (tests/contact_center).
    ContactMethod.objects.filter(contact=complete, kind="email").update(invalid_since=timezone.now(),
                                                                         invalid_reason="550 5.1.1 user unknown")
    bare = services.create_contact(rep_a, {"name": "马丽"})
    legacy = services.create_contact(rep_a, {"name": "Oliver Grant"})
    # Rows loaded before validation existed: kept as typed, with no normalised form.
    ContactMethod.objects.create(contact=legacy, kind="phone", value="12-34", normalized="12-34")
    ContactMethod.objects.create(contact=legacy, kind="email", value="oliver at grant", normalized="")
    Contact.objects.filter(pk=legacy.pk).update(phone="12-34", email="oliver at grant")
    _age(bare, 400)
    _age(legacy, 200)
    _age(bare_account, 800)
    their_1 = services.create_contact(rep_b, {"name": "林涛", "phones": ["137 0000 1111"]})
    their_2 = services.create_contact(rep_b, {"name": "何敏"})
    ContactMethod.objects.create(contact=their_2, kind="phone", value="x", normalized="")
    _age(their_1, 900)
    services.create_account(rep_b, {"name": "广州南方物流"})
    DuplicatePair.objects.all().delete()
    ours = sorted([bare.pk, legacy.pk])
    DuplicatePair.objects.create(kind="contact", record_1=ours[0], record_2=ours[1], score=0.9)
    DuplicatePair.objects.create(kind="contact", record_1=min(their_1.pk, their_2.pk),
                                 record_2=max(their_1.pk, their_2.pk), score=0.9)
    return {"complete": complete, "bare": bare, "legacy": legacy}


def _counts(figures):
    return {f.key: f.count for f in figures}


def test_figures_match_the_known_dataset(users, data):
    report = health.data_health(users["rep_a"])
    contacts, accounts = report.kinds["contact"], report.kinds["account"]
    assert contacts.total == 3
    assert _counts(contacts.completeness) == {"phone": 2, "email": 2, "title": 1, "account": 1, "address": 1,
                                              "birthday": 1, "owner": 3}
    assert _counts(contacts.invalid) == {"phone": 1, "email": 1, "bounced": 1}
    assert _counts(contacts.decay) == {"6": 2, "12": 1, "24": 0}
    assert contacts.duplicates_waiting == 1
    assert accounts.total == 2
    assert _counts(accounts.completeness) == {"industry": 1, "size": 1, "classification": 1, "phone": 1,
                                              "website": 1, "address": 1, "owner": 2}
    assert _counts(accounts.decay) == {"6": 1, "12": 1, "24": 1}
    assert accounts.duplicates_waiting == 0
    assert report.expected_monthly_decay == 0.1  # 2.5 % of 3 contacts, rounded
    assert report.bounced_emails == 1  # rep_a's 周建国, whose mail bounced
    assert next(f for f in contacts.completeness if f.key == "title").share == round(1 / 3, 4)


def test_team_b_records_are_not_counted_for_rep_a_but_are_for_admin(users, data):
    rep_b = health.data_health(users["rep_b"]).kinds["contact"]
    assert rep_b.total == 2
    assert _counts(rep_b.invalid) == {"phone": 1, "email": 0, "bounced": 0}
    assert _counts(rep_b.decay) == {"6": 1, "12": 1, "24": 1}
    assert rep_b.duplicates_waiting == 1
    admin = health.data_health(users["admin"]).kinds["contact"]
    assert admin.total == 5 and admin.duplicates_waiting == 2
    assert _counts(admin.invalid) == {"phone": 2, "email": 1, "bounced": 1}


def test_months_adds_a_threshold_and_months_before_clamps():
    assert health.months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert health.months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)
    assert health.parse_months(" 9 ") == 9 and health.parse_months("") is None
    for bad in ("abc", "0", "241", "1.5"):
        with pytest.raises(ValidationError) as exc:
            health.parse_months(bad)
        assert "months" in exc.value.message_dict


def test_months_param_counts_its_own_threshold(users, data):
    report = health.data_health(users["rep_a"], months=9)
    assert report.months == [6, 9, 12, 24]
    assert _counts(report.kinds["contact"].decay)["9"] == 1


def _login(users, name="rep_a") -> Client:
    client = Client()
    client.force_login(users[name])
    return client


def test_each_link_opens_a_list_whose_count_matches_the_figure(users, data):
    client = _login(users)
    token = issue_token(users["rep_a"])
    response = client.get("/api/v1/data-health", {"months": "9"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["bounced_emails"] == {"tracked": True, "count": 1}
    checked = 0
    for kind in ("contact", "account"):
        section = body[kind]
        for figure in section["completeness"]:
            listed = client.get(figure["list_url"])
            assert listed.status_code == 200
            assert not listed.context["filter_errors"], figure
            assert len(listed.context["rows"]) == figure["total"] - figure["count"], figure
            checked += 1
        for figure in section["invalid"] + section["decay"]:
            listed = client.get(figure["list_url"])
            assert not listed.context["filter_errors"], figure
            assert len(listed.context["rows"]) == figure["count"], figure
            checked += 1
        pairs = client.get(section["duplicates_url"])
        assert len(pairs.context["rows"]) == section["duplicates_waiting"]
    assert checked == 7 + 3 + 4 + 7 + 4


def test_page_shows_figures_and_links(users, data):
    client = _login(users)
    response = client.get("/quality/health/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "/contacts/?missing=title" in html
    assert "/contacts/?invalid=phone" in html
    assert "updated_before=" in html
    assert 'id="bounced-emails"' in html and 'href="/contacts/?invalid=bounced">1 contact whose email bounced' in html
    assert "/quality/health/" in html  # the menu link
    chinese = client.get("/quality/health/", headers={"Accept-Language": "zh-hans"}).content.decode()
    for text in ("数据健康", "完整度", "缺失 2 条", "退信", "2–3%", "1 对待审核"):
        assert text in chinese, text


def test_page_query_count_does_not_grow_with_records(users, data, django_assert_max_num_queries):
    client = _login(users)
    client.get("/quality/health/")
    # Session, user, the share checks of visible_to, one aggregate per model, one for pairs, the user's team,
    # the notification bell.
    with django_assert_max_num_queries(11) as small:
        client.get("/quality/health/")
    for k in range(15):
        services.create_contact(users["rep_a"], {"name": f"测试{k}", "phones": [f"13600{k:06d}"]})
        services.create_account(users["rep_a"], {"name": f"测试公司{k}"})
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/quality/health/")


def test_bad_months_is_a_form_error_on_the_page_and_a_400_in_the_api(users, data):
    response = _login(users).get("/quality/health/", {"months": "abc"})
    assert response.status_code == 200
    assert response.context["months_errors"]
    assert 'id="months-error"' in response.content.decode()
    token = issue_token(users["rep_a"])
    for bad in ("abc", "0", "99999999999999999999"):
        response = Client().get("/api/v1/data-health", {"months": bad}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400, bad
        assert "months" in response.json()["errors"], response.json()


def test_list_filters_missing_and_invalid(users, data):
    rep = users["rep_a"]
    contacts = Contact.objects.visible_to(rep)
    assert set(apply_filters(contacts, {"missing": "title"}, rep)) == {data["bare"], data["legacy"]}
    assert set(apply_filters(contacts, {"missing": ["title", "address"]}, rep)) == {data["bare"], data["legacy"]}
    assert list(apply_filters(contacts, {"invalid": "email"}, rep)) == [data["legacy"]]
    assert list(apply_filters(contacts, {"invalid": "bounced"}, rep)) == [data["complete"]]
    assert apply_filters(Account.objects.visible_to(rep), {"missing": "website"}, rep).count() == 1
    for params in ({"missing": "nope"}, {"invalid": "title"}):
        with pytest.raises(ValidationError) as exc:
            apply_filters(contacts, params, rep)
        assert set(exc.value.message_dict) == set(params)
    with pytest.raises(ValidationError):
        apply_filters(Account.objects.visible_to(rep), {"invalid": "phone"}, rep)
