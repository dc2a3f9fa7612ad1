"""The churn model's features beyond the orders (issue 6): complaints, satisfaction and engagement per account,
counted over the same window before the as-of date as the order features, for the same accounts, in one grouped
query per source; and a model trained on a history where they drive churn names them as its reasons."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.activities.models import Activity, ActivityKind
from guanxi.analytics import queries
from guanxi.analytics.models import CustomerScore
from guanxi.analytics.score_models import REASON_LABELS
from guanxi.analytics.score_services import CHURN_WINDOW_DAYS, score_customers
from guanxi.customers.models import Account
from guanxi.sales.quote_models import Order, OrderStatus
from guanxi.service.csat_models import SatisfactionResponse
from guanxi.service.ticket_models import Priority, Ticket

from .app_history import make_history

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 3, 1)
SERVICE = ["tickets_recent", "complaints_recent", "satisfaction_recent", "engagement_recent", "engagement_trend"]


def at(days: float, day: dt.date = AS_OF) -> dt.datetime:
    """`days` days before noon (UTC) of `day` (negative: after it)."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) - dt.timedelta(days=days)


def _account(name: str, *order_days: int, owner=None) -> Account:
    account = Account.objects.create(name=name, owner=owner)
    for i, days in enumerate(order_days):
        Order.objects.create(number=f"{name}-{i}", account=account, ordered_on=AS_OF - dt.timedelta(days=days),
                             gross_total=Decimal("100.00"), status=OrderStatus.CONFIRMED)
    return account


def _ticket(account: Account, when: dt.datetime, priority: str = Priority.NORMAL, score: int | None = None,
            answered: dt.datetime | None = None) -> Ticket:
    ticket = Ticket.objects.create(subject="问题", account=account, priority=priority)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=when)  # created_at is set on insert
    if score is not None:
        SatisfactionResponse.objects.create(ticket=ticket, score=score, at=answered or when)
    return ticket


def _activity(account: Account, when: dt.datetime, kind: str = ActivityKind.CALL) -> Activity:
    return Activity.objects.create(kind=kind, subject="跟进", account=account, occurred_at=when)


@pytest.fixture
def service_history(users):
    """Four accounts with orders before AS_OF, each with one kind of service history, and two accounts that
    are not in the feature set (no order, or ordering only after AS_OF) though they have tickets and
    activities."""
    rep = users["rep_a"]
    complaining = _account("投诉客户", 200, 30, owner=rep)
    for days, priority in ((10, Priority.HIGH), (80, Priority.URGENT), (20, Priority.NORMAL),
                           (120, Priority.HIGH),  # in the window 90–180 days before: not recent
                           (-1, Priority.URGENT)):  # after the as-of date: never counted
        _ticket(complaining, at(days), priority)
    midnight = dt.datetime.combine(AS_OF, dt.time.min, tzinfo=dt.UTC)
    _ticket(complaining, midnight, Priority.HIGH)  # on the as-of date itself: not before it

    unhappy = _account("不满客户", 200, owner=rep)
    for score, answered in ((1, at(50)), (2, at(5)), (5, at(100)), (5, at(-2))):  # only 1 and 2 are in the window
        _ticket(unhappy, at(150), score=score, answered=answered)

    engaged = _account("活跃客户", 200, owner=rep)
    for days, kind in ((3, ActivityKind.CALL), (40, ActivityKind.MEETING), (89, ActivityKind.EMAIL),
                       (10, ActivityKind.HANDOVER),  # a hand-over between reps is not engagement
                       (100, ActivityKind.NOTE), (170, ActivityKind.NOTE),  # the 90 days before
                       (200, ActivityKind.CALL), (-1, ActivityKind.EMAIL)):  # older, and after the as-of date
        _activity(engaged, at(days), kind)

    quiet = _account("沉默客户", 200, owner=rep)
    outsiders = [_account("无订单客户", owner=rep), _account("新客户", -5, owner=rep)]
    for account in outsiders:
        _ticket(account, at(10), Priority.URGENT, score=1)
        _activity(account, at(10))
    return {"complaining": complaining, "unhappy": unhappy, "engaged": engaged, "quiet": quiet,
            "outsiders": outsiders}


def _row(frame, account) -> dict:
    return frame.loc[account.pk, SERVICE].to_dict()


def test_complaints_satisfaction_and_engagement_per_account_before_the_as_of_date(service_history):
    h = service_history
    frame = queries.churn_features(AS_OF, None, 90)
    assert set(frame.index) == {h[k].pk for k in ("complaining", "unhappy", "engaged", "quiet")}
    assert not set(frame.index) & {a.pk for a in h["outsiders"]}  # the order features' accounts only
    assert list(frame.columns) == queries.FEATURES

    complaining = _row(frame, h["complaining"])
    assert (complaining["tickets_recent"], complaining["complaints_recent"]) == (3, 2)
    assert math.isnan(complaining["satisfaction_recent"])  # never rated: missing, not 0
    unhappy = _row(frame, h["unhappy"])
    assert unhappy["satisfaction_recent"] == pytest.approx(1.5)  # (1 + 2) / 2
    assert (unhappy["tickets_recent"], unhappy["complaints_recent"]) == (0, 0)  # opened 150 days before
    engaged = _row(frame, h["engaged"])
    assert (engaged["engagement_recent"], engaged["engagement_trend"]) == (3, 3 - 2)
    quiet = _row(frame, h["quiet"])
    assert math.isnan(quiet.pop("satisfaction_recent"))
    assert quiet == {"tickets_recent": 0, "complaints_recent": 0, "engagement_recent": 0, "engagement_trend": 0}
    assert {str(frame[c].dtype) for c in SERVICE} == {"int64", "float64"}  # numbers the churn model reads as such

    # As of an earlier date (as the model is trained), what came after that date does not count.
    earlier = AS_OF - dt.timedelta(days=30)
    frame = queries.churn_features(earlier, AS_OF, 90)
    complaining = _row(frame, h["complaining"])
    assert (complaining["tickets_recent"], complaining["complaints_recent"]) == (2, 2)  # 80 and 120 days before
    assert frame.loc[h["unhappy"].pk, "satisfaction_recent"] == pytest.approx(3.0)  # 1 and 5: 50 and 100 days
    engaged = _row(frame, h["engaged"])
    assert (engaged["engagement_recent"], engaged["engagement_trend"]) == (3, 3 - 2)  # 40, 89, 100; 170, 200
    # The label's window (until) changes the label only.
    with_label = queries.churn_features(AS_OF, AS_OF + dt.timedelta(days=90), 90)
    without = queries.churn_features(AS_OF, None, 90)
    assert with_label[queries.FEATURES].fillna(-1).equals(without.fillna(-1))


def test_the_lifecycle_stages_read_the_order_features_only(service_history):
    frame = queries.churn_features(AS_OF, None, 90, service=False)
    assert list(frame.columns) == queries.ORDER_FEATURES


@pytest.mark.parametrize("n", [3, 30])
def test_the_features_take_one_query_per_source_whatever_the_number_of_accounts(users, n,
                                                                               django_assert_max_num_queries):
    for i in range(n):
        account = _account(f"客户{i:03d}", 100, 10 + i % 5, owner=users["rep_a"])
        _ticket(account, at(5 + i % 7), Priority.HIGH if i % 2 else Priority.NORMAL, score=1 + i % 5)
        _activity(account, at(20))
        _activity(account, at(120))
    with CaptureQueriesContext(connection) as queried, django_assert_max_num_queries(4):  # orders + 3 sources
        frame = queries.churn_features(AS_OF, AS_OF + dt.timedelta(days=90), 90)
    assert len(queried) == 4
    assert len(frame) == n
    assert frame["complaints_recent"].sum() == n // 2 and frame["tickets_recent"].sum() == n
    assert frame["satisfaction_recent"].tolist() == [float(1 + i % 5) for i in range(n)]
    assert frame["engagement_recent"].tolist() == [1] * n and frame["engagement_trend"].tolist() == [0] * n


def test_every_feature_has_a_translatable_label():
    assert set(queries.FEATURES) <= set(REASON_LABELS)


def _churn_history(users) -> dict:
    """A long order history where, at each training date, the accounts that will not order in the next window
    had complained (two high-priority tickets), rated their last ticket 1 and had no activity in the window
    before, while some that stay rated theirs 5 and every one that stays had a call."""
    data = make_history([users["rep_a"]], n_accounts=200, seed=3, start="2024-01-01", days=720)
    as_of, window = data["as_of"], dt.timedelta(days=CHURN_WINDOW_DAYS)
    days: dict[int, list[dt.date]] = {}
    for account, day in (Order.objects.exclude(status=OrderStatus.CANCELLED)
                         .values_list("account_id", "ordered_on")):
        days.setdefault(account, []).append(day)
    accounts = {a.pk: a for a in data["accounts"]}
    for date in (as_of - 2 * window, as_of - window):
        for pk, ordered in days.items():
            if not any(d < date for d in ordered):
                continue
            stays = any(date <= d < date + window for d in ordered)
            if stays:
                _activity(accounts[pk], at(20, date))
                if pk % 2:
                    _ticket(accounts[pk], at(10, date), score=5, answered=at(5, date))
            else:
                _ticket(accounts[pk], at(10, date), Priority.HIGH, score=1, answered=at(5, date))
                _ticket(accounts[pk], at(12, date), Priority.URGENT)
    data["days"] = days
    return data


def test_a_model_trained_where_complaints_drive_churn_names_them_as_reasons(users, client):
    data = _churn_history(users)
    as_of = data["as_of"]
    complaining = [a for a in data["accounts"] if a.pk in data["days"]][:5]
    for account in complaining:  # today: six complaints, one rated 1, and no call
        _ticket(account, at(3, as_of), Priority.HIGH, score=1, answered=at(2, as_of))
        for days in range(4, 9):
            _ticket(account, at(days, as_of), Priority.URGENT)
    run = score_customers(as_of)
    assert run.status == "done", run.message
    churn = run.details["churn"]
    assert churn["method"] == "model", churn
    assert churn["validation_auc"] > 0.9  # the service history separates who leaves in the later window too
    for account in complaining:
        score = CustomerScore.objects.get(account=account)
        named = {r["feature"]: r["value"] for r in score.reasons}
        assert score.risk_band == "high" and named.get("complaints_recent") == 6, score.reasons
    for score in CustomerScore.objects.exclude(reasons=[]):
        assert all(r["value"] is not None for r in score.reasons)  # a missing rating is never a reason

    rep = users["rep_a"]
    rep.language = "en"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    client.cookies["django_language"] = "en"
    page = client.get(f"/accounts/{complaining[0].pk}/").content.decode()
    card = page.split('id="account-analytics"')[1].split('id="tab-timeline"')[0]
    assert 'data-feature="complaints_recent"' in card
    assert "complaints (high or urgent tickets) in the last 90 days: 6" in card
