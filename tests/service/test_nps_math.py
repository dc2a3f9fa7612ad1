"""The NPS arithmetic without a database: categories at their edges, the score of counts (rounded half up, −100 to
100), shares, and why a contact is skipped — the order of the reasons."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanxi.service import nps


@pytest.mark.parametrize(("score", "expected"), [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"),
                                                 (9, "promoter"), (10, "promoter")])
def test_categories_at_their_edges(score, expected):
    assert nps.category(score) == expected


@pytest.mark.parametrize("bad", [-1, 11, 7.5, "7", True, None])
def test_a_score_outside_0_to_10_has_no_category(bad):
    with pytest.raises(ValueError):
        nps.category(bad)


@pytest.mark.parametrize(("value", "expected"), [("0", 0), (" 10 ", 10), ("7", 7), (3, 3), ("11", None),
                                                 ("-1", None), ("abc", None), ("", None), ("7.0", None), (7.0, None),
                                                 (True, None), (None, None), ("٣", None), ("100", None)])
def test_parse_score_takes_whole_numbers_0_to_10_only(value, expected):
    assert nps.parse_score(value) == expected


def test_score_and_shares_by_hand():
    # 5 promoters, 3 passives, 2 detractors of 10: 50 % − 20 % = 30
    b = nps.breakdown(promoters=5, passives=3, detractors=2)
    assert (b.responses, b.score) == (10, Decimal("30.0"))
    assert (b.share("promoter"), b.share("passive"), b.share("detractor")) == (Decimal("50.0"), Decimal("30.0"),
                                                                             Decimal("20.0"))
    assert nps.score(1, 1, 1) == Decimal("0.0")
    assert nps.score(2, 0, 1) == Decimal("33.3")  # 100 / 3, one decimal
    assert nps.score(1, 0, 7) == Decimal("-75.0")
    assert nps.score(0, 0, 3) == Decimal("-100.0") and nps.score(4, 0, 0) == Decimal("100.0")
    assert nps.score(1, 6, 0) == Decimal("14.3")  # 14.2857… half up
    assert nps.score(0, 0, 0) is None and nps.breakdown().share("promoter") is None


def test_tally_and_ranges():
    assert nps.tally([10, 9, 8, 7, 6, 0, 3]) == nps.Breakdown(2, 2, 3)
    assert [nps.score_range(c) for c in nps.CATEGORIES] == ["9–10", "7–8", "0–6"]
    with pytest.raises(ValueError):
        nps.score(-1, 0, 0)


@given(st.lists(st.integers(min_value=0, max_value=10), max_size=200))
def test_the_score_is_between_minus_100_and_100_and_agrees_with_the_definition(scores):
    b = nps.tally(scores)
    if not scores:
        assert b.score is None
        return
    assert Decimal(-100) <= b.score <= Decimal(100)
    exact = Decimal(sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) * 100 / len(scores)
    assert abs(b.score - exact) <= Decimal("0.05")


def test_skip_reasons_in_their_order():
    def reason(**kw):
        base = {"consent": True, "email": "a@b.cn", "undeliverable": False, "surveyed_recently": False}
        return nps.skip_reason(**{**base, **kw})

    assert reason() is None
    assert reason(consent=False, email="") == "no_consent"
    assert reason(email="", undeliverable=True) == "no_email"
    assert reason(undeliverable=True, surveyed_recently=True) == "undeliverable"
    assert reason(surveyed_recently=True) == "recent"
