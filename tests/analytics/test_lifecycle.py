"""Lifecycle stages: the rules of analytics.lifecycle row by row, and the scoring job setting each scripted
account's stage (only when it changes), with the change audited and on the account's timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from guanxi.activities.models import Activity
from guanxi.analytics import lifecycle
from guanxi.analytics.lifecycle_services import update_stages
from guanxi.core.models import AuditEntry
from guanxi.customers.models import Account
from guanxi.customers.timeline import timeline_for
from guanxi.sales.quote_models import Order, OrderStatus

NAN = np.nan


def test_each_rule_in_order():
    rows = {  # orders, recency, tenure, orders now/before, spend now/before, churn risk, P(alive), activities
        "prospect": (0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 1),
        "stranger": (0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 0),
        "gone": (5, 400, 900, 0, 0, 0, 0, 0.2, 0.5, 0),
        "dead": (5, 100, 900, 0, 1, 0, 50, 0.2, 0.01, 0),
        "new": (1, 10, 10, 1, 0, 100, 0, 0.9, 0.9, 0),  # new beats a high churn risk
        "risky": (8, 20, 500, 2, 2, 100, 100, 0.75, 0.8, 0),
        "quiet": (3, 200, 800, 0, 0, 0, 0, 0.1, 0.6, 0),
        "shrinking": (8, 20, 500, 2, 2, 69, 100, 0.1, 0.9, 1),
        "fewer": (8, 20, 500, 1, 2, 100, 100, 0.1, 0.9, 0),  # 1 ≤ 0.7·2 orders
        "growing": (8, 20, 500, 2, 2, 120, 100, 0.1, 0.9, 0),
        "restarted": (3, 20, 300, 1, 0, 50, 0, 0.1, 0.9, 0),
        "steady": (8, 20, 500, 2, 2, 119, 100, 0.1, 0.9, 0),
        "unscored": (8, 20, 500, 2, 2, 100, 100, NAN, NAN, 0),
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=lifecycle.FEATURES)
    got = lifecycle.stages(frame)
    assert got.to_dict("index") == {
        "prospect": {"stage": "awareness", "reason": "contact_only"},
        "stranger": {"stage": None, "reason": None},
        "gone": {"stage": "lost", "reason": "inactive"},
        "dead": {"stage": "lost", "reason": "p_alive"},
        "new": {"stage": "acquisition", "reason": "new"},
        "risky": {"stage": "decline", "reason": "churn_risk"},
        "quiet": {"stage": "decline", "reason": "quiet"},
        "shrinking": {"stage": "decline", "reason": "spend_down"},
        "fewer": {"stage": "decline", "reason": "orders_down"},
        "growing": {"stage": "growth", "reason": "spend_up"},
        "restarted": {"stage": "growth", "reason": "spend_up"},
        "steady": {"stage": "maturity", "reason": "steady"},
        "unscored": {"stage": "maturity", "reason": "steady"},
    }
    assert set(got["reason"].dropna()) <= set(lifecycle.REASONS)
    # thresholds move the lines: lost after 2 years, growth only from +50 %
    looser = lifecycle.Thresholds(lost_days=730, growth_change=0.5)
    assert list(lifecycle.stages(frame.loc[["gone", "growing"]], looser)["stage"]) == ["decline", "maturity"]


def test_thresholds_from_settings_refuse_unknown_names():
    assert lifecycle.Thresholds.from_settings({"lost_days": 540.0}).lost_days == 540
    with pytest.raises(ValueError, match="GUANXI_ANALYTICS_LIFECYCLE: unknown threshold.*lost_dayz"):
        lifecycle.Thresholds.from_settings({"lost_dayz": 1})


AS_OF = dt.date(2026, 6, 30)


def _orders(account, *spec):
    """(days before AS_OF, amount) per order."""
    Order.objects.bulk_create([
        Order(number=f"L{account.pk}-{i}", account=account, owner=account.owner,
              ordered_on=AS_OF - dt.timedelta(days=d), gross_total=Decimal(a), net_total=Decimal(a),
              status=OrderStatus.CONFIRMED) for i, (d, a) in enumerate(spec)])


@pytest.fixture
def scripted(users):
    rep = users["rep_a"]

    def account(name, stage="awareness"):
        return Account.objects.create(name=name, owner=rep, team=rep.team, lifecycle_stage=stage)

    made = {name: account(name) for name in ("prospect", "stranger", "new", "growing", "steady", "shrinking",
                                             "lost", "already_mature")}
    made["already_mature"].lifecycle_stage = "maturity"
    made["already_mature"].save()
    Activity.objects.create(kind="call", account=made["prospect"], subject="first call",
                            occurred_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    _orders(made["new"], (20, "500"), (3, "200"))
    _orders(made["growing"], (300, "100"), (250, "100"), (100, "300"), (30, "300"))  # 200 → 600
    _orders(made["steady"], (300, "200"), (200, "200"), (100, "200"), (10, "200"))  # 400 → 400
    _orders(made["already_mature"], (300, "200"), (200, "200"), (100, "200"), (10, "210"))
    _orders(made["shrinking"], (300, "500"), (200, "500"), (100, "100"))  # 1000 → 100
    _orders(made["lost"], (800, "900"), (400, "100"))
    Order.objects.create(number="C1", account=made["stranger"], ordered_on=AS_OF, gross_total=Decimal(5),
                         status=OrderStatus.CANCELLED)  # cancelled orders do not count
    return made


def test_the_job_sets_the_stages_once_audited_and_on_the_timeline(scripted, users, english):
    versions = dict(Account.objects.values_list("pk", "version"))
    # the prospect (awareness), the stranger (no counted order) and the mature one keep their stage
    assert update_stages(AS_OF) == 5
    stages = dict(Account.objects.values_list("name", "lifecycle_stage"))
    assert stages == {"prospect": "awareness", "stranger": "awareness", "new": "acquisition", "growing": "growth",
                      "steady": "maturity", "already_mature": "maturity", "shrinking": "decline", "lost": "lost"}
    growing = scripted["growing"]
    entry = AuditEntry.objects.get(object_id=growing.pk, changes__has_key="lifecycle_stage")
    assert entry.changes == {"lifecycle_stage": ["awareness", "growth"]} and entry.actor is None
    assert Account.objects.get(pk=growing.pk).version == versions[growing.pk] + 1 == entry.version
    assert Account.objects.get(pk=scripted["already_mature"].pk).version == versions[scripted["already_mature"].pk]
    item = timeline_for(growing, users["rep_a"])[0]
    assert item.kind == "change" and item.changes == {"lifecycle_stage": ["awareness", "growth"]}
    page = _client_page(users["rep_a"], growing)
    assert "lifecycle_stage" in page or "Lifecycle stage" in page
    # nothing changed: nothing written
    before = AuditEntry.objects.count()
    assert update_stages(AS_OF) == 0 and AuditEntry.objects.count() == before
    # a year later with no new order, the steady customer is lost
    assert update_stages(AS_OF + dt.timedelta(days=400)) >= 1
    assert Account.objects.get(pk=scripted["steady"].pk).lifecycle_stage == "lost"


def test_high_churn_risk_from_the_scores_means_decline(scripted):
    steady = scripted["steady"].pk
    update_stages(AS_OF, churn_risk=pd.Series({steady: 0.9}), p_alive=pd.Series({steady: 0.5}))
    assert Account.objects.get(pk=steady).lifecycle_stage == "decline"
    update_stages(AS_OF, churn_risk=pd.Series({steady: 0.1}), p_alive=pd.Series({steady: 0.01}))
    assert Account.objects.get(pk=steady).lifecycle_stage == "lost"


def test_thresholds_come_from_the_settings(scripted, settings):
    settings.ANALYTICS_LIFECYCLE = {"acquisition_days": 10.0}
    update_stages(AS_OF)
    assert Account.objects.get(pk=scripted["new"].pk).lifecycle_stage == "growth"  # 20 days: no longer new


def _client_page(user, account) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(f"/accounts/{account.pk}/").content.decode()
