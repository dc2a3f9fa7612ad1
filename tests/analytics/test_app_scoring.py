"""The scoring job on the CRM's own orders: the stored scores are what the plain modules (the `guanxi
analytics` commands) give on the same orders exported as a CSV; a fit that cannot converge is reported
and keeps the old scores; the job shows on the Jobs page; the nightly sweep starts it once."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from guanxi.analytics import clv_cli, rfm_cli
from guanxi.analytics.models import AffinityRule, Band, CustomerScore, ScoringRun, ScoringStatus
from guanxi.analytics.score_services import HIGH_RISK, score_customers
from guanxi.sales.quote_models import Order

from .app_history import export_orders, make_history

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages read in English


def _cli(module, **options) -> None:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    argv = []
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    assert module.run(parser.parse_args(argv)) == 0


@pytest.fixture
def history(users):
    return make_history([users["rep_a"], users["rep_a2"], users["rep_b"]], seed=5)


def test_stored_scores_equal_the_plain_modules_on_the_exported_orders(history, tmp_path, capsys):
    as_of = history["as_of"]
    run = score_customers(as_of)
    assert run.status == ScoringStatus.DONE, run.message
    orders = export_orders(tmp_path / "orders.csv")
    common = {"transactions": orders, "customer_col": "customer", "date_col": "date", "amount_col": "amount",
              "as_of": as_of.isoformat()}
    _cli(rfm_cli, output=tmp_path / "rfm.csv", **common)
    _cli(clv_cli, output=tmp_path / "clv.csv", format="json", **common)
    fits = json.loads(capsys.readouterr().out)
    expected_rfm = pd.read_csv(tmp_path / "rfm.csv").set_index("customer")
    expected_clv = pd.read_csv(tmp_path / "clv.csv").set_index("customer")
    stored = {s.account_id: s for s in CustomerScore.objects.all()}
    assert set(stored) == set(expected_rfm.index)  # every account with a counted order, and only those
    for account, row in expected_rfm.iterrows():
        score = stored[account]
        assert (score.recency_days, score.frequency) == (row.recency, row.frequency)
        assert score.monetary == pytest.approx(row.monetary, rel=1e-9)
        assert (score.r_score, score.f_score, score.m_score, score.segment) == (
            row.r_score, row.f_score, row.m_score, row.segment)
    for account, row in expected_clv.iterrows():  # the CLI writes 6 significant digits
        score = stored[account]
        assert score.p_alive == pytest.approx(row.p_alive, rel=1e-5, abs=1e-9)
        assert score.clv == pytest.approx(row.clv, rel=1e-5, abs=1e-6)
        assert score.expected_orders == pytest.approx(row.expected_purchases, rel=1e-5, abs=1e-9)
    for name in ("r", "alpha", "a", "b"):
        assert run.details["purchases"]["params"][name] == pytest.approx(fits["purchases"]["params"][name], rel=1e-6)
    # Bands: the top fifth of lifetime value is high value; a risk of one half or more is high risk.
    clvs = sorted((s.clv for s in stored.values() if s.clv is not None), reverse=True)
    high = [s for s in stored.values() if s.value_band == Band.HIGH]
    assert 0 < len(high) <= len(clvs) // 5 + 1 and min(s.clv for s in high) >= clvs[len(high)]
    assert all((s.risk_band == Band.HIGH) == (s.churn_risk >= HIGH_RISK) for s in stored.values())


def test_the_summary_read_out_equals_the_grouped_query(history):
    """customer_summary's two ways (one grouped query; the columns read out and grouped in numpy) give the same
    figures per account, on either database, with a cancelled order, an order after the date and two orders
    on one day counted as they should be."""
    from guanxi.analytics import queries

    account = history["accounts"][0]
    day = Order.objects.filter(account=account).exclude(status="cancelled").order_by("ordered_on")[0].ordered_on
    Order.objects.create(number="SAME-DAY", account=account, ordered_on=day, gross_total=Decimal("12.34"))
    as_of = history["as_of"] - dt.timedelta(days=30)  # some orders come after: not counted
    grouped, read = queries.customer_summary(as_of, "sql"), queries.customer_summary(as_of, "read")
    assert len(read) == len(grouped) > 100 and read.as_of == grouped.as_of
    for name in ("account_ids", "first_day", "last_day", "order_days", "orders"):
        assert getattr(read, name).tolist() == getattr(grouped, name).tolist(), name
    for name in ("total", "repeat_total"):
        assert getattr(read, name) == pytest.approx(getattr(grouped, name), rel=1e-12, abs=1e-9), name
    first = read.account_ids.tolist().index(account.pk)
    assert read.orders[first] == read.order_days[first] + 1  # the same-day order adds an order, not a day
    assert len(queries.customer_summary(dt.date(2000, 1, 1), "read")) == 0


def test_cancelled_orders_do_not_count_and_a_rerun_replaces_the_scores(history):
    as_of = history["as_of"]
    score_customers(as_of)
    account = history["accounts"][0]
    before = CustomerScore.objects.get(account=account)
    counted = Order.objects.filter(account=account).exclude(status="cancelled")
    assert before.frequency == counted.count()
    assert before.monetary == pytest.approx(float(sum(o.gross_total for o in counted)))
    Order.objects.filter(account=account).update(status="cancelled")
    score_customers(as_of)
    assert not CustomerScore.objects.filter(account=account).exists()  # no counted order any more
    assert CustomerScore.objects.count() == len(history["accounts"]) - 1


def test_short_history_falls_back_to_one_minus_p_alive_and_says_so(history):
    run = score_customers(history["as_of"])  # 365 days: trained and validated windows need 270 before as_of
    assert run.details["churn"]["method"] in ("model", "fallback")
    if run.details["churn"]["method"] == "fallback":
        assert "P(alive)" in run.message
        for s in CustomerScore.objects.exclude(p_alive=None):
            assert s.churn_risk == pytest.approx(1 - s.p_alive)


def test_a_long_history_trains_a_churn_model_with_reasons(users):
    data = make_history([users["rep_a"]], n_accounts=200, seed=3, start="2024-01-01", days=720)
    run = score_customers(data["as_of"])
    assert run.status == ScoringStatus.DONE, run.message
    churn = run.details["churn"]
    assert churn["method"] == "model", churn
    assert 0 <= churn["validation_auc"] <= 1 and churn["train_rows"] >= 20
    risky = CustomerScore.objects.filter(risk_band=Band.HIGH).exclude(reasons=[]).first()
    assert risky is not None
    assert {"feature", "value", "contribution"} <= set(risky.reasons[0])


def test_a_fit_that_does_not_converge_is_reported_and_keeps_the_old_scores(history):
    as_of = history["as_of"]
    score_customers(as_of)
    kept = dict(CustomerScore.objects.values_list("account_id", "clv"))
    # Spends from 1 to 1,000,000 yuan, each account always the same: Gamma-Gamma cannot identify its spread.
    for i, account in enumerate(history["accounts"]):
        Order.objects.filter(account=account).exclude(status="cancelled").update(gross_total=Decimal(10 ** (i % 7)))
    run = score_customers(as_of)
    assert run.status == ScoringStatus.FAILED
    assert "did not converge" in run.message and "not changed" in run.message
    assert dict(CustomerScore.objects.values_list("account_id", "clv")) == kept


def test_a_model_that_cannot_be_fitted_yet_is_reported(history):
    # Every customer bought once only: no repeat purchases, so BG/NBD has nothing to learn from.
    firsts = [min(Order.objects.filter(account=a).values_list("pk", flat=True)) for a in history["accounts"]]
    Order.objects.exclude(pk__in=firsts).update(status="cancelled")
    run = score_customers(history["as_of"])
    assert run.status == ScoringStatus.FAILED
    assert "cannot be fitted yet" in run.message and "repeat purchase" in run.message
    assert not CustomerScore.objects.exists()


def test_affinity_rules_are_mined_from_the_order_lines(history):
    score_customers(history["as_of"])
    products = history["products"]
    rule = AffinityRule.objects.get(product=products[0], suggested=products[1])
    assert rule.confidence > 0.5 and rule.lift > 1
    assert not AffinityRule.objects.filter(product=products[4], suggested=products[5], confidence__gt=0.5).exists()


def test_the_plain_modules_never_import_django():
    code = ("import sys, guanxi.analytics.rfm, guanxi.analytics.clv, guanxi.analytics.churn,"
            "guanxi.analytics.affinity, guanxi.analytics.transactions, guanxi.analytics.simulate,"
            "guanxi.analytics.tables, guanxi.analytics.ptc, guanxi.analytics.lifecycle, guanxi.analytics.cli;"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_orders_means_nothing_to_score(users):
    run = score_customers(dt.date(2026, 1, 1))
    assert run.status == ScoringStatus.DONE and run.customers == 0
    assert ScoringRun.objects.count() == 1 and Decimal(0) == CustomerScore.objects.count()
