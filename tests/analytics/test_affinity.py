"""Product affinity: FP-growth itemsets and rules against arules' counts, mlxtend and brute force."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.analytics import affinity
from guanxi.analytics.affinity import Baskets, also_bought, association_rules, frequent_itemsets, mine
from guanxi.analytics.errors import AnalyticsInputError
from tests.analytics.datasets import groceries

SMALL = [["a", "b"], ["a", "b", "c"], ["a", "c"], ["b"]]


def _rules(frame: pd.DataFrame, ante: str = "antecedent", cons: str = "consequent") -> dict:
    return {
        (a, c): (s, f, lift)
        for a, c, s, f, lift in zip(
            frame[ante], frame[cons], frame["support"], frame["confidence"], frame["lift"], strict=True
        )
    }


@pytest.fixture(scope="module")
def mlxtend_groceries():
    from mlxtend.frequent_patterns import association_rules as ml_rules
    from mlxtend.frequent_patterns import fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    te = TransactionEncoder()
    onehot = pd.DataFrame(te.fit(groceries()).transform(groceries()), columns=te.columns_)
    itemsets = fpgrowth(onehot, min_support=0.001, use_colnames=True)
    return itemsets, ml_rules(itemsets, len(onehot), metric="confidence", min_threshold=0.5)


def test_groceries_finds_arules_5668_rules_and_mlxtends_rule_set(mlxtend_groceries):
    ml_itemsets, ml_rules = mlxtend_groceries
    itemsets = frequent_itemsets(Baskets.from_lists(groceries()), 0.001)
    rules = association_rules(itemsets, 0.5)
    assert len(rules) == 5668  # R: apriori(Groceries, parameter = list(supp = 0.001, conf = 0.5))
    assert len(itemsets) == len(ml_itemsets) == 13492
    ours, theirs = _rules(rules), _rules(ml_rules[ml_rules["consequents"].map(len) == 1], "antecedents", "consequents")
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-12)
    top = rules.iloc[0]
    assert top["confidence"] == 1.0 and math.isinf(top["conviction"])
    milk = ours[(frozenset({"butter", "whipped/sour cream", "yogurt"}), frozenset({"whole milk"}))]
    assert milk == pytest.approx(
        theirs[(frozenset({"butter", "whipped/sour cream", "yogurt"}), frozenset({"whole milk"}))]
    )
    # every consequent size, as mlxtend gives them
    everything = association_rules(itemsets, 0.5, max_consequent=10)
    assert _rules(everything).keys() == _rules(ml_rules, "antecedents", "consequents").keys()


def test_order_lines_in_any_order_with_repeats_give_the_same_rules(monkeypatch):
    data = groceries()
    lines = [(f"order-{b}", item) for b, basket in enumerate(data) for item in basket]
    lines += lines[::7]  # the same product twice in an order counts once
    random.Random(3).shuffle(lines)
    baskets = Baskets.from_pairs([b for b, _ in lines], [i for _, i in lines])
    empty = sum(1 for b in data if not b)
    by_lists = mine(Baskets.from_lists([b for b in data if b]), 0.002, 0.3)
    by_lines = mine(baskets, 0.002, 0.3)
    assert baskets.n == len(data) - empty
    assert _rules(by_lines) == _rules(by_lists)
    monkeypatch.setattr(affinity, "CHUNK", 500)  # conditional databases cut out in many small chunks
    assert _rules(mine(baskets, 0.002, 0.3)) == _rules(by_lists)


def test_small_example_by_hand():
    rules = mine(Baskets.from_lists(SMALL), 0.5, 0.6)
    got = {(tuple(a), tuple(c)): (s, f, round(lift, 4)) for (a, c), (s, f, lift) in _rules(rules).items()}
    assert got == {
        (("a",), ("b",)): (0.5, 2 / 3, round((2 / 3) / 0.75, 4)),
        (("b",), ("a",)): (0.5, 2 / 3, round((2 / 3) / 0.75, 4)),
        (("a",), ("c",)): (0.5, 2 / 3, round((2 / 3) / 0.5, 4)),
        (("c",), ("a",)): (0.5, 1.0, round(1 / 0.75, 4)),
    }
    c_a = rules[rules["antecedent"] == frozenset({"c"})].iloc[0]
    assert c_a["leverage"] == pytest.approx(0.5 - 0.5 * 0.75) and math.isinf(c_a["conviction"])
    assert mine(Baskets.from_lists(SMALL), 0.5, 0.6, max_len=1).empty


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 7), max_size=6), min_size=1, max_size=40), st.sampled_from([0.05, 0.1, 0.2, 0.35])
)
def test_itemsets_equal_brute_force(baskets, min_support):
    found = frequent_itemsets(Baskets.from_lists(baskets), min_support)
    got = {frozenset(found.labels[i] for i in s): c for s, c in zip(found.sets, found.counts, strict=True)}
    sets = [set(b) for b in baskets]
    items = sorted(set().union(*sets))
    expected = {}
    for k in range(1, len(items) + 1):
        for combo in itertools.combinations(items, k):
            count = sum(1 for b in sets if b.issuperset(combo))
            if count / len(baskets) >= min_support:
                expected[frozenset(combo)] = count
    assert got == expected


def test_also_bought_prefers_rules_on_the_item_alone():
    baskets = [["tea", "cups"]] * 6 + [["tea", "honey", "lemon"]] * 3 + [["honey", "lemon"]] * 2 + [["tea"]]
    rules = mine(Baskets.from_lists(baskets), 0.1, 0.2, max_consequent=1)
    tips = also_bought("tea", rules, n=2)
    assert tips[0].item == "cups" and tips[1].item in {"honey", "lemon"}  # cups 6/10; honey, lemon 3/10
    assert tips[0].confidence == pytest.approx(0.6)
    assert [t.item for t in also_bought("honey", rules, n=5)] == ["lemon", "tea"]
    assert also_bought("unknown", rules) == [] and also_bought("tea", rules.iloc[:0]) == []


@pytest.mark.parametrize("support", [0, -0.1, 1.5, float("nan"), "0.1", True])
def test_support_out_of_range_is_refused(support):
    with pytest.raises(AnalyticsInputError, match="min support"):
        frequent_itemsets(Baskets.from_lists(SMALL), support)


def test_other_bad_input_is_refused():
    with pytest.raises(AnalyticsInputError, match="no baskets"):
        frequent_itemsets(Baskets.from_lists([]), 0.5)
    with pytest.raises(AnalyticsInputError, match="min confidence"):
        mine(Baskets.from_lists(SMALL), 0.5, 0)
    with pytest.raises(AnalyticsInputError, match="2 basket ids but 1 items"):
        Baskets.from_pairs(["o1", "o2"], ["tea"])
    with pytest.raises(AnalyticsInputError, match="no basket id or no item"):
        Baskets.from_pairs(np.array(["o1", None], dtype=object), np.array(["tea", "cups"], dtype=object))
    assert issubclass(AnalyticsInputError, ValueError)
