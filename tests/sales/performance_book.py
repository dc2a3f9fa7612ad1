"""The small book of opportunities and quotas the performance tests compute by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from guanxi.customers import services as customer_services
from guanxi.sales import quota_services, services
from guanxi.sales.models import Opportunity

BEIJING = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def make_opp(stages, rates_later):
    def make(user, amount, kind, closed=None, currency="CNY", created=None):
        account = customer_services.create_account(user, {"name": f"{user.username} 客户 {amount} {currency}"})
        data = {
            "name": f"商机 {amount}",
            "account_id": account.pk,
            "amount": amount,
            "currency": currency,
            "stage_id": (stages["open"][0] if kind == "open" else stages[kind]).pk,
        }
        if kind == "lost":
            data["lost_reason"] = "价格"
        opp = services.create_opportunity(user, data)
        # Set the dates a test needs (the services stamp "now").
        Opportunity.objects.filter(pk=opp.pk).update(closed_at=closed, **({"created_at": created} if created else {}))
        return opp

    return make


@pytest.fixture
def book(users, teams, make_opp):
    a, a2, b = users["rep_a"], users["rep_a2"], users["rep_b"]
    make_opp(a, "10000.00", "won", at(2031, 3, 5, 10))
    make_opp(a, "5000.00", "won", at(2031, 3, 31, 23, 30))  # the last half hour of March in Beijing
    make_opp(a, "2000.00", "won", at(2031, 3, 10), "USD")  # another currency: beside, never added
    make_opp(a, "300.00", "lost", at(2031, 3, 12))
    make_opp(a, "7000.00", "won", at(2031, 4, 1, 0, 30))  # April in Beijing (still March in UTC)
    make_opp(a, "9999.00", "open")
    make_opp(a2, "20000.00", "won", at(2031, 3, 20))
    make_opp(a2, "100.00", "lost", at(2031, 3, 2))
    make_opp(a2, "100.00", "lost", at(2031, 3, 3))
    make_opp(b, "8000.00", "won", at(2031, 3, 15))
    make_opp(b, "1000.00", "won", at(2031, 3, 16), "USD")
    admin = users["admin"]
    for who, amount, currency in ((a, "30000", "CNY"), (a2, "15000", "CNY"), (b, "4000", "USD")):
        quota_services.create_quota(
            admin, {"user_id": who.pk, "kind": "month", "start": "2031-03-01", "amount": amount, "currency": currency}
        )
    quota_services.create_quota(
        admin, {"team_id": teams["a"].pk, "kind": "month", "start": "2031-03-01", "amount": "50000", "currency": "CNY"}
    )
    quota_services.create_quota(
        admin,
        {"team_id": teams["company"].pk, "kind": "month", "start": "2031-03-01", "amount": "60000", "currency": "CNY"},
    )

