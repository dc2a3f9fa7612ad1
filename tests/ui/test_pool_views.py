"""The public pool pages: the list with claim buttons, the account page's return date and release, the rules."""

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.customers import services
from guanxi.customers.models import Account, PoolRule


@pytest.fixture
def pooled(users):
    PoolRule.objects.create(classification="B", return_days=45, warn_days=5, cooldown_days=7)
    return [
        services.create_account(users["admin"], {"name": f"<b>公海{i}</b>", "classification": "B", "owner_id": None})
        for i in range(4)
    ]


def test_pool_page_lists_claims_and_bulk_claims(login, users, pooled, django_assert_max_num_queries):
    client = login(users["rep_a"])
    with django_assert_max_num_queries(9):  # session, user, page, limit, count, bell…: not one per row (4 rows)
        page = client.get(reverse("customers:pool_list"))
    html = page.content.decode()
    assert page.status_code == 200 and html.count('data-claim="') == 4
    assert "&lt;b&gt;公海0" in html and "<b>公海0" not in html  # escaped
    response = client.post(reverse("customers:pool_claim"), {"one": pooled[0].pk, "ids": [pooled[1].pk]})
    assert response.status_code == 302
    assert Account.objects.get(pk=pooled[0].pk).owner == users["rep_a"]
    assert Account.objects.get(pk=pooled[1].pk).owner is None  # the row's button claims that row only
    client.post(reverse("customers:pool_claim"), {"ids": [pooled[1].pk, pooled[2].pk]})
    assert Account.objects.filter(owner=users["rep_a"]).count() == 3
    assert client.get(reverse("customers:pool_list"), {"min_days": "x"}).status_code == 200


def test_account_page_shows_the_return_date_and_releases(login, users, pooled):
    client = login(users["rep_a"])
    client.post(reverse("customers:pool_claim"), {"one": pooled[0].pk})
    account = Account.objects.get(pk=pooled[0].pk)
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert 'id="release-form"' in html and timezone.localtime(account.pool_due_at).strftime("%Y-%m-%d") in html
    client.post(reverse("customers:account_release", args=[account.pk]), {"reason": ""})
    assert Account.objects.get(pk=account.pk).owner == users["rep_a"]  # a reason is required
    client.post(reverse("customers:account_release", args=[account.pk]), {"reason": "无需求"})
    assert Account.objects.get(pk=account.pk).owner is None
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert 'id="claim-account"' in html and "无需求" in html


def test_rules_page_for_administrators_only(login, users, pooled):
    assert login(users["rep_a"]).get(reverse("customers:pool_rules")).status_code == 403
    client = login(users["admin"])
    assert client.get(reverse("customers:pool_rules")).status_code == 200
    bad = client.post(
        reverse("customers:pool_rules"), {"return_days_B": "10", "warn_days_B": "20", "default_claim_limit": "5"}
    )
    assert bad.status_code == 200 and "rules.0.warn_days" in bad.content.decode()
    client.post(
        reverse("customers:pool_rules"),
        {"return_days_none": "20", "warn_days_none": "3", "default_claim_limit": "9", "limit_sales_rep": "4"},
    )
    assert list(PoolRule.objects.values_list("classification", "return_days")) == [("", 20)]
    assert client.get(reverse("customers:pool_list")).context["claim_limit"] == 9
