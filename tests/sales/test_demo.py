import datetime as dt

import pytest

from guanxi.core import demo
from guanxi.core.models import User
from guanxi.customers.models import Account, Contact
from guanxi.sales import queries, services
from guanxi.sales.models import Opportunity, StageKind


@pytest.fixture
def loaded(db):
    result = demo.load(1000, seed=7)
    assert result.created
    return result


def _deals():
    return list(Opportunity.objects.order_by("pk").values_list("account_id", "name", "stage_id", "amount",
                                                               "expected_close", "lost_reason"))


def test_about_one_opportunity_per_six_accounts_over_every_kind_of_stage(loaded):
    accounts = Account.objects.count()
    assert accounts == 200
    count = Opportunity.objects.count()
    assert accounts / 10 <= count <= accounts / 4
    pipeline = services.default_pipeline()
    assert set(Opportunity.objects.values_list("pipeline_id", flat=True)) == {pipeline.pk}
    statuses = set(Opportunity.objects.values_list("status", flat=True))
    assert statuses == {StageKind.OPEN, StageKind.WON, StageKind.LOST}
    open_stages = set(Opportunity.objects.filter(status=StageKind.OPEN).values_list("stage_id", flat=True))
    assert len(open_stages) >= 3
    assert len(set(Opportunity.objects.values_list("amount", flat=True))) >= 4


def test_opportunities_follow_their_account_and_the_rules_of_their_stage(loaded):
    today = dt.date.today()
    for opp in Opportunity.objects.select_related("account", "stage", "contact"):
        account = opp.account
        assert (opp.owner_id, opp.team_id) == (account.owner_id, account.team_id)
        assert opp.status == opp.stage.kind and opp.probability == opp.stage.probability
        assert opp.amount > 0 and opp.currency == "CNY" and opp.name
        # each account's deals are named in its own language
        assert any("\u4e00" <= ch <= "\u9fff" for ch in opp.name) == any(
            "\u4e00" <= ch <= "\u9fff" for ch in account.name)
        if opp.contact is not None:
            assert account in opp.contact.accounts.all()
        if opp.status == StageKind.OPEN:
            assert today < opp.expected_close <= today + dt.timedelta(days=190)
            assert opp.closed_at is None and opp.lost_reason == ""
        else:
            assert opp.closed_at is not None and opp.closed_at.date() <= today
            assert (opp.lost_reason != "") == (opp.status == StageKind.LOST)
    assert Opportunity.objects.filter(contact__isnull=False).exists()


def test_reps_see_their_own_deals_on_the_board_and_in_the_forecast(loaded):
    rep = User.objects.get(username="rep1")
    mine = Opportunity.objects.filter(owner=rep)
    assert Opportunity.objects.visible_to(rep).count() == mine.count()
    columns = queries.board(rep, services.default_pipeline())
    assert sum(c.count for c in columns) == mine.count()
    rows = queries.forecast(User.objects.get(username="manager"), by="owner")
    assert rows, "the manager's forecast has the demo's open deals"


def test_same_seed_same_opportunities_and_no_duplicates_on_rerun(loaded):
    first = _deals()
    assert not demo.load(1000, seed=7).created
    assert _deals() == first
    Opportunity.objects.all().delete()
    Contact.objects.all().delete()
    Account.objects.all().delete()
    assert demo.load(1000, seed=7).created
    assert [d[1:] for d in _deals()] == [d[1:] for d in first]
