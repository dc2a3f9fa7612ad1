"""Target customers (analytics.ptc): exact scores on a tiny matrix, an honest hold-out validation on data with a
planted structure, and the `guanxi analytics ptc` command."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

from guanxi.analytics import ptc
from guanxi.analytics.errors import AnalyticsInputError
from guanxi.cli import main


def test_cf_scores_are_the_cosine_sums_with_reasons():
    # a and b bought X and T; c bought X and Y; d bought Y only; e bought Z.
    pairs = [("a", "X"), ("a", "T"), ("b", "X"), ("b", "T"), ("c", "X"), ("c", "Y"), ("d", "Y"), ("e", "Z")]
    m = ptc.PurchaseMatrix.from_pairs([c for c, _p in pairs], [p for _c, p in pairs])
    result = ptc.propensity(m, "T")
    # sim(X, T) = 2 / √(3·2); sim(Y, T) = 0; c scores sim(X, T), d and e nothing.
    sim_x = 2 / math.sqrt(6)
    assert result.method == "cf" and result.buyers == 2
    assert list(result.table.customer) == ["c", "d", "e"]
    assert result.table.cf_score.iloc[0] == pytest.approx(sim_x, abs=1e-6)
    assert list(result.table.score) == [1.0, 0.0, 0.0]
    assert result.table.reasons.iloc[0] == [("X", round(sim_x, 4))]
    assert result.table.reasons.iloc[1] == []
    with_buyers = ptc.propensity(m, "T", include_buyers=True, top=2)
    assert list(with_buyers.table.customer) == ["a", "b"] and with_buyers.table.bought.all()


def test_bad_input_is_named():
    m = ptc.PurchaseMatrix.from_pairs([1, 2], [10, 11])
    with pytest.raises(AnalyticsInputError, match="nobody has bought it"):
        ptc.propensity(m, 99)
    with pytest.raises(AnalyticsInputError, match="top"):
        ptc.propensity(m, 10, top=0)
    assert ptc.propensity(m, "10").buyers == 1  # a product id read as text
    with pytest.raises(AnalyticsInputError, match="no purchases"):
        ptc.PurchaseMatrix.from_pairs([], [])


def planted(n: int = 3000, products: int = 40, groups: int = 4, seed: int = 3, days: int = 730) -> pd.DataFrame:
    """Customers each prefer one group of products (80 % of their purchases), buy at gamma-distributed rates,
    and pick within a group by Zipf popularity: who buys a product later is predictable from what they
    bought before, but not certain."""
    rng = np.random.default_rng(seed)
    size = products // groups
    prefer = rng.integers(0, groups, n)
    rate = rng.gamma(2.0, 3.0, n) / 365
    frames = []
    for c in range(n):
        k = rng.poisson(rate[c] * days)
        group = np.where(rng.random(k) < 0.8, prefer[c], rng.integers(0, groups, k))
        frames.append(pd.DataFrame({"customer": c, "day": np.sort(rng.integers(0, days, k)),
                                    "product": group * size + rng.zipf(1.6, k) % size,
                                    "amount": rng.gamma(2, 100, k)}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("with_features", [False, True], ids=["similarity", "model"])
def test_the_ranking_predicts_held_out_purchases_far_better_than_random(with_features):
    """Learn from the first 18 months, rank the customers who had not bought each product yet, and check who
    bought it in the last 6: AUC well above 0.5 and the top 100 hold several times the base rate."""
    tx = planted()
    cut = 548
    before, after = tx[tx.day < cut], tx[tx.day >= cut]
    m = ptc.PurchaseMatrix.from_pairs(before.customer, before["product"])
    features = ptc.rfm_features(before.customer, before.day, before.amount, cut) if with_features else None
    for product in (3, 12, 25):
        result = ptc.propensity(m, product, features=features)
        assert result.method == ("model" if with_features else "cf")
        positives = set(after.customer[after["product"] == product])
        is_positive = result.table.customer.isin(positives).to_numpy()
        base = is_positive.mean()
        assert 0.01 < base < 0.1 and len(result.table) > 2000
        assert ptc.auc(result.table.score.to_numpy(), is_positive) > 0.68
        assert ptc.hit_rate(list(result.table.customer), positives, 100) > 3 * base
        # and a random order does not (the same measures on shuffled scores)
        shuffled = np.random.default_rng(product).permutation(result.table.score.to_numpy())
        assert abs(ptc.auc(shuffled, is_positive) - 0.5) < 0.06


def test_auc_and_hit_rate():
    assert ptc.auc(np.array([0.9, 0.8, 0.1]), np.array([True, False, False])) == 1.0
    assert ptc.auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5
    assert math.isnan(ptc.auc(np.array([1.0]), np.array([True])))
    assert ptc.hit_rate(["a", "b", "c", "d"], {"a", "d"}, 2) == 0.5


@pytest.fixture(scope="module")
def lines_csv(tmp_path_factory):
    tx = planted(n=600, seed=5)
    frame = pd.DataFrame({"客户": "KH" + tx.customer.astype(str).str.zfill(4),
                          "产品": "SKU-" + tx["product"].astype(str),
                          "日期": pd.Timestamp("2024-01-01") + pd.to_timedelta(tx.day, unit="D"),
                          "金额": tx.amount.round(2)})
    path = tmp_path_factory.mktemp("ptc") / "明细.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d", encoding="utf-8-sig")
    return path


def test_cli_writes_the_top_customers_with_reasons(lines_csv, tmp_path, capsys):
    out = tmp_path / "top.csv"
    args = ["analytics", "ptc", "--transactions", str(lines_csv), "--product", "SKU-3", "--top", "20",
            "--customer-col", "客户", "--product-col", "产品", "--date-col", "日期", "--amount-col", "金额"]
    assert main([*args, "--output", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, 21)]
    assert all(r["customer"].startswith("KH") and r["reasons"].startswith("SKU-") for r in rows)
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] <= scores[0] <= 1
    assert "logistic model" in capsys.readouterr().err
    bought = set(pd.read_csv(lines_csv, encoding="utf-8-sig").query("产品 == 'SKU-3'")["客户"])
    assert not bought & {r["customer"] for r in rows}  # buyers left out by default

    assert main([*args, "--format", "json", "--include-buyers", "--top", "3"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert len(ranked) == 3 and set(ranked[0]) == {"rank", "customer", "score", "cf_score", "reasons", "bought"}
    assert ranked[0]["reasons"][0]["product"].startswith("SKU-")


def test_cli_without_dates_ranks_by_similarity(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("customer,product\n1,A\n1,B\n2,A\n3,B\n", encoding="utf-8")
    assert main(["analytics", "ptc", "--transactions", str(path), "--product", "A", "--top", "5"]) == 0
    out = capsys.readouterr()
    # sim(B, A) = 1 / √(2·2): customer 3 (bought B) first, with B as the reason
    assert out.out.splitlines()[1] == "1,3,1.0,0.5,B (0.5)" and "item similarity" in out.err


@pytest.mark.parametrize(("argv", "message"), [
    (["--product", "ZZZ"], "nobody has bought it"),
    (["--product", "A", "--top", "0"], "--top"),
    (["--product", "A", "--customer-col", "客户"], "no column(s) '客户'"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    path = tmp_path / "p.csv"
    path.write_text("customer,product\n1,A\n2,B\n", encoding="utf-8")
    assert main(["analytics", "ptc", "--transactions", str(path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
