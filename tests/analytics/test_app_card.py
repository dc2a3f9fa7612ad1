"""The account page's analytics card (RFM segment in the user's language, lifetime value, P(alive), churn
risk with reasons, "also bought" suggestions) in two queries, and the quote editor's cross-sell fragment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.analytics.models import AffinityRule, CustomerScore
from guanxi.analytics.queries import account_insights
from guanxi.analytics.rfm import SEGMENT_BY_CODE
from guanxi.analytics.score_services import score_customers
from guanxi.sales.quote_models import Order, OrderLine, Quote, QuoteLine

from .app_history import make_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(users):
    history = make_history([users["rep_a"], users["rep_b"]], seed=5)
    assert score_customers(history["as_of"]).status == "done"
    return history


def _card(client, account) -> str:
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    return page.split('id="account-analytics"')[1].split('id="tab-timeline"')[0]


def test_the_card_shows_the_score_and_the_segment_in_the_users_language(scored, users, client):
    rep = users["rep_a"]
    score = CustomerScore.objects.filter(account__owner=rep).exclude(reasons=[]).first() \
        or CustomerScore.objects.filter(account__owner=rep).first()
    client.force_login(rep)
    segment = SEGMENT_BY_CODE[score.segment]
    card = _card(client, score.account)  # the default language, 简体中文
    assert segment.zh in card  # 重要价值客户 …: rfm.py's name until the catalogue has its own
    client.cookies["django_language"] = "en"
    rep.language = "en"
    rep.save(update_fields=["language"])
    card = _card(client, score.account)
    assert f'data-segment="{score.segment}"' in card and segment.en in card
    assert f"{round(score.churn_risk * 100)} %" in card
    for reason in score.reasons:
        assert f'data-feature="{reason["feature"]}"' in card


def test_an_unscored_account_says_so(users, zhang, client):
    account, _contact = zhang
    client.force_login(users["rep_a"])
    assert 'id="no-score"' in _card(client, account)


def test_suggestions_come_from_the_accounts_products_in_two_queries(scored, users, django_assert_max_num_queries):
    products = scored["products"]
    account = next(a for a in scored["accounts"]
                   if OrderLine.objects.filter(order__account=a, product=products[0]).exists())
    bought = set(OrderLine.objects.filter(order__account=account).exclude(order__status="cancelled")
                 .values_list("product_id", flat=True))
    with django_assert_max_num_queries(2):
        insights = account_insights(account)
        names = [r.suggested.name for r in insights["suggestions"]]
    assert insights["score"].account_id == account.pk
    assert all(r.suggested_id not in bought and r.product_id in bought for r in insights["suggestions"])
    assert len(names) == len(set(names))


def test_the_quote_editor_suggests_products_bought_with_the_quotes(scored, users, client):
    rep = users["rep_a"]
    products = scored["products"]
    account = scored["accounts"][0]
    quote = Quote.objects.create(number="Q-T-1", account=account, owner=rep, team_id=rep.team_id)
    QuoteLine.objects.create(quote=quote, product=products[0], description="x", quantity=Decimal(1),
                             unit_price=Decimal(1))
    client.force_login(rep)
    assert 'id="cross-sell"' in client.get(f"/sales/quotes/{quote.pk}/").content.decode()
    fragment = client.get(f"/analytics/quotes/{quote.pk}/cross-sell/").content.decode()
    best = AffinityRule.objects.filter(product=products[0]).order_by("-confidence").first()
    assert f'data-product="{best.suggested_id}"' in fragment
    assert f'data-product="{products[0].pk}"' not in fragment
    client.force_login(users["rep_b"])
    assert client.get(f"/analytics/quotes/{quote.pk}/cross-sell/").status_code == 404
    assert Order.objects.exists()
