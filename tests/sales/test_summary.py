"""The monthly summary of opportunities (sales/summary.py), kept by database triggers.

After every kind of change — the services (create, update, stage moves, close, reopen, reassign, delete), a
hand-over, cascades from deleting an account, a team or a user, bulk inserts (the demo, the COPY/INSERT import
writer), queryset updates and deletes — the table equals a recomputation made here in Python from the
opportunities. And the forecast, the leaderboard and year on year read from it give exactly what they give
reading the opportunities themselves, for every kind of user, shares included."""

import datetime as dt
import json
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from guanxi import cli
from guanxi.activities import services as activity_services
from guanxi.core.models import Role, Share, Team, User
from guanxi.core.people_services import share_record
from guanxi.core.services import create_user
from guanxi.customers import services as customer_services
from guanxi.customers.import_writer import insert_rows
from guanxi.customers.models import Account
from guanxi.sales import services, summary
from guanxi.sales.models import Opportunity, Pipeline, StageKind
from guanxi.sales.performance import leaderboard, year_over_year
from guanxi.sales.queries import forecast
from guanxi.sales.quota_math import parse_period
from guanxi.sales.quote_models import Order, OrderStatus
from guanxi.sales.summary_models import CompanyMonth, Measure, OpportunityMonth

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def at(*args, zone=BEIJING):
    return dt.datetime(*args, tzinfo=zone)


def recomputed() -> dict[tuple, tuple]:
    """The summary as it should be, computed here from the opportunities (months of closing and creation in the
    company's zone), independently of the SQL that keeps and rebuilds it."""
    zone = ZoneInfo(settings.TIME_ZONE)
    out: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])

    def local(moment):
        day = moment.astimezone(zone)
        return day.year * 100 + day.month if summary.FIRST_MONTH <= day.year * 100 + day.month <= summary.LAST_MONTH \
            else 0

    for o in Opportunity.objects.all():
        cents = int((o.amount * 100).to_integral_value(ROUND_HALF_UP))
        months = {Measure.EXPECTED: o.expected_close.year * 100 + o.expected_close.month if o.expected_close else 0,
                  Measure.CREATED: local(o.created_at)}
        if o.closed_at is not None:
            months[Measure.CLOSED] = local(o.closed_at)
        for measure, month in months.items():
            acc = out[(measure, month, o.owner_id or 0, o.team_id or 0, o.pipeline_id, o.status, o.currency)]
            acc[0] += 1
            acc[1] += cents
            acc[2] += cents * o.probability
    return {k: tuple(v) for k, v in out.items()}


def stored() -> dict[tuple, tuple]:
    return {(r.measure, r.month, r.owner_id, r.team_id, r.pipeline_id, r.status, r.currency):
            (r.n, r.amount, r.weighted) for r in OpportunityMonth.objects.all()}


def assert_kept():
    assert stored() == recomputed()
    assert summary.differences() == []


@pytest.fixture
def deal_for(stages):
    def make(user, amount="1000.00", kind="open", currency="CNY", close="2031-03-15", **extra):
        account = customer_services.create_account(user, {"name": f"{user.username} 客户 {random.random()}"})
        data = {"name": f"商机 {amount}", "account_id": account.pk, "amount": amount, "currency": currency,
                "expected_close": close, "stage_id": (stages["open"][0] if kind == "open" else stages[kind]).pk,
                **extra}
        if kind == "lost":
            data["lost_reason"] = "价格"
        return services.create_opportunity(user, data)

    return make


def test_every_change_through_the_services_keeps_it(users, stages, deal_for, rates_later):
    rep, admin = users["rep_a"], users["admin"]
    assert_kept()
    deal = deal_for(rep, "120000.55")
    won = deal_for(rep, "7000.00", "won", "USD")
    deal_for(rep, "300.10", "lost")
    nodate = deal_for(users["rep_b"], "99.99", close=None)
    assert OpportunityMonth.objects.filter(measure=Measure.CLOSED).count() == 2
    assert_kept()
    deal = services.update_opportunity(rep, deal, {"amount": "130000.45", "currency": "EUR",
                                                   "expected_close": "2031-05-02", "probability": 33}, deal.version)
    assert_kept()
    deal = services.move_stage(rep, deal, stages["open"][2].pk, deal.version)  # probability from the stage
    assert_kept()
    deal = services.move_stage(rep, deal, stages["won"].pk, deal.version)  # closed: now under CLOSED too
    assert_kept()
    deal = services.reopen(rep, deal, deal.version)
    deal = services.move_stage(rep, deal, stages["lost"].pk, deal.version, lost_reason="预算")
    assert_kept()
    deal = services.update_opportunity(admin, deal, {"owner_id": users["rep_b"].pk}, deal.version)  # reassigned
    assert (deal.owner_id, deal.team_id) == (users["rep_b"].pk, users["rep_b"].team_id)
    assert_kept()
    other = services.create_pipeline(admin, {"name": "渠道", "currency": "USD"})
    nodate = services.update_opportunity(admin, nodate, {"pipeline_id": other.pk}, nodate.version)
    assert_kept()
    services.update_opportunity(rep, won, {"name": "改名", "description": "只改了名字"}, won.version)  # nothing summed
    assert_kept()
    services.delete_opportunity(admin, deal)
    assert_kept()
    for o in Opportunity.objects.all():
        services.delete_opportunity(admin, o)
    assert not OpportunityMonth.objects.exists()  # rows reaching a count of 0 go


def test_queryset_updates_hand_overs_and_cascades_keep_it(users, teams, deal_for):
    rep, rep2, admin = users["rep_a"], users["rep_a2"], users["admin"]
    deals = [deal_for(rep, f"{i}00.25", kind) for i, kind in enumerate(["open", "open", "won", "lost"], 1)]
    deal_for(rep2, "50.00", "won")
    # What tests and data fixes do: dates set straight in SQL; one closed half an hour into April in Beijing
    # (still March in UTC), one created at midnight on New Year's Day, one closed before the company months.
    Opportunity.objects.filter(pk=deals[2].pk).update(closed_at=at(2031, 4, 1, 0, 30), created_at=at(2031, 1, 1))
    Opportunity.objects.filter(pk=deals[3].pk).update(closed_at=at(1969, 12, 31, 12))
    Opportunity.objects.filter(owner=rep2).update(amount=Decimal("75.50"), probability=40)
    assert_kept()
    account = Account.objects.get(pk=deals[0].account_id)
    activity_services.hand_over(admin, rep2.pk, accounts=[account.pk])  # one UPDATE of the open opportunities
    assert Opportunity.objects.get(pk=deals[0].pk).owner_id == rep2.pk
    assert_kept()
    customer_services.delete_account(admin, Account.objects.get(pk=deals[1].account_id))  # cascades in SQL
    assert not Opportunity.objects.filter(pk=deals[1].pk).exists()
    assert_kept()
    gone = Team.objects.create(name="临时组", parent=teams["company"])
    temp = create_user(None, username="temp", password="correct-horse-9", role=Role.SALES_REP, team=gone)
    deal_for(temp, "10.00", "won")
    gone.delete()  # the opportunities' team is set to NULL
    assert_kept()
    User.objects.filter(pk=temp.pk).delete()  # and their owner
    assert Opportunity.objects.filter(owner__isnull=True, team__isnull=True).count() == 1
    assert_kept()
    Opportunity.objects.filter(status=StageKind.WON).delete()
    assert_kept()


def test_bulk_inserts_keep_it(users, pipeline, stages):
    """The demo's bulk_create and the import writer's multi-row INSERT / COPY (the path of the 1,000,000-deal
    bench) go through the same triggers."""
    rep = users["rep_a"]
    for i in range(12):
        customer_services.create_account(rep, {"name": f"批量客户 {i}"})
    first = Account.objects.order_by("pk").first().pk
    from guanxi.sales.demo import create_demo_opportunities

    assert create_demo_opportunities(7, first, dt.date(2031, 3, 10), rate=1.0) == 12
    assert_kept()
    columns = ("created_at", "updated_at", "owner_id", "team_id", "version", "custom", "name", "account_id",
               "pipeline_id", "stage_id", "status", "amount", "currency", "expected_close", "probability",
               "lost_reason", "competitors", "description", "closed_at")
    rng = random.Random(3)
    rows = []
    for i in range(200):
        owner = rng.choice([users["rep_a"], users["rep_b"], users["manager_a"]])
        kind = rng.choice(list(StageKind.values))
        stage = stages["open"][0] if kind == StageKind.OPEN else stages[kind]
        created = at(2030, 1, 1) + dt.timedelta(hours=rng.randrange(0, 2 * 365 * 24))
        closed = None if kind == StageKind.OPEN else created + dt.timedelta(hours=rng.randrange(1, 2000))
        close = (created + dt.timedelta(days=rng.randrange(0, 400))).date() if rng.random() < 0.9 else None
        rows.append(tuple(_db(v) for v in (
            created, created, owner.pk, owner.team_id, 1, "{}", f"导入 {i}", first + i % 12, pipeline.pk, stage.pk,
            kind, Decimal(rng.randrange(1, 10**8)) / 100, rng.choice(["CNY", "USD", "EUR"]), close,
            rng.randrange(0, 101), "", "", "", closed)))
    insert_rows(Opportunity, columns, rows)
    assert_kept()
    Opportunity.objects.filter(currency="USD").update(currency="CNY", status=StageKind.WON)
    Opportunity.objects.filter(name__startswith="导入 1").delete()
    assert_kept()


def _db(value):
    """What the import writer passes: SQLite takes its own text forms of dates and times."""
    if connection.vendor != "sqlite" or value is None:
        return value
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value.isoformat() if isinstance(value, dt.date) else value


def test_the_check_finds_a_broken_summary_and_the_rebuild_mends_it(users, deal_for, capsys):
    deal_for(users["rep_a"], "500.00", "won")
    deal_for(users["rep_b"], "800.00")
    assert cli.main(["sales-summary"]) == 0
    OpportunityMonth.objects.filter(measure=Measure.EXPECTED).update(n=5)
    OpportunityMonth.objects.filter(measure=Measure.CLOSED).delete()
    capsys.readouterr()
    assert cli.main(["sales-summary"]) == 1
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(printed) == 3 and {p["key"]["measure"] for p in printed} == {Measure.EXPECTED, Measure.CLOSED}
    assert cli.main(["sales-summary", "--rebuild"]) == 0
    assert_kept()


def test_another_time_zone_reads_the_opportunities_until_the_rebuild(users, deal_for, settings):
    """Closing months are the company's: with TIME_ZONE changed, the summary's (Beijing) months no longer fit, so
    the figures come from the opportunities until a rebuild (or `guanxi migrate`) makes Berlin's months."""
    rep = users["rep_a"]
    late = deal_for(rep, "7000.00", "won")
    Opportunity.objects.filter(pk=late.pk).update(closed_at=at(2031, 3, 31, 23, 30, zone=ZoneInfo("Europe/Berlin")))
    march = parse_period("2031-03")

    def won_in_march():
        return {r["name"]: r["won_amount"] for r in leaderboard(users["admin"], march)["rows"]}

    assert won_in_march() == {}  # 05:30 on 1 April in Beijing
    settings.TIME_ZONE = "Europe/Berlin"
    assert not summary.zone_ready()
    assert won_in_march() == {"rep_a": Decimal("7000.00")}  # read from the opportunities
    summary.rebuild()
    assert summary.zone_ready() and CompanyMonth.objects.get(month=203103).zone == "Europe/Berlin"
    assert_kept()
    assert won_in_march() == {"rep_a": Decimal("7000.00")}
    assert_same_figures(users["admin"])


# ---------------------------------------------------------------- the figures read from it

@pytest.fixture
def varied(users, teams, stages, pipeline):
    """Two hundred opportunities over two years, every status, three currencies, two pipelines, a few without an
    expected close; closing times on month ends; some of rep_a2's filed under team b (they moved); shares to a
    user and to a team."""
    rng = random.Random(11)
    other = services.create_pipeline(users["admin"], {"name": "渠道", "currency": "USD"})
    other_stages = {kind: [s for s in other.stages.order_by("position") if s.kind == kind] for kind in StageKind.values}
    owners = [users["rep_a"], users["rep_a2"], users["rep_b"], users["manager_a"]]
    accounts = {u.pk: customer_services.create_account(u, {"name": f"{u.username} 的客户"}).pk for u in owners}
    made, created_at = [], []
    for i in range(200):
        owner = rng.choice(owners)
        kind = rng.choice(list(StageKind.values))
        pipe, stage = (pipeline, stages["open"][rng.randrange(4)] if kind == StageKind.OPEN else stages[kind]) \
            if rng.random() < 0.8 else (other, other_stages[kind][0])
        close = dt.date(2030, 1, 1) + dt.timedelta(days=rng.randrange(0, 800)) if rng.random() < 0.95 else None
        created_at.append(at(2030, 1, 1) + dt.timedelta(hours=rng.randrange(0, 2 * 365 * 24)))
        closed = None
        if kind != StageKind.OPEN:
            day = dt.date(2030, 1, 1) + dt.timedelta(days=rng.randrange(0, 730))
            closed = at(day.year, day.month, day.day, rng.choice([0, 9, 23]), rng.choice([0, 30, 59]))
        made.append(Opportunity(
            name=f"商机 {i}", account_id=accounts[owner.pk], pipeline=pipe, stage=stage, status=kind,
            probability=stage.probability if rng.random() < 0.7 else rng.randrange(101),
            amount=Decimal(rng.randrange(1, 10**7)) / 100, currency=rng.choice(["CNY", "CNY", "USD", "EUR"]),
            expected_close=close, closed_at=closed, owner=owner, team_id=owner.team_id))
    Opportunity.objects.bulk_create(made)
    for o, created in zip(made, created_at, strict=True):  # created_at is stamped on insert
        Opportunity.objects.filter(pk=o.pk).update(created_at=created)
    moved = made[:30]
    Opportunity.objects.filter(pk__in=[o.pk for o in moved if o.owner_id == users["rep_a2"].pk]).update(
        team=teams["b"])
    admin = users["admin"]
    for o in rng.sample(made, 40):
        share_record(admin, o, user=rng.choice([users["rep_a"], users["manager_a"], users["viewer"]]))
    for o in rng.sample(made, 20):
        share_record(admin, o, team=rng.choice([teams["a"], teams["b"]]))
    assert Share.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity)).exists()
    return made


def assert_same_figures(user):
    pipelines = [None, *Pipeline.objects.all()]
    for by in ("owner", "team"):
        for pipe in pipelines:
            assert forecast(user, by=by, pipeline=pipe) == forecast(user, by=by, pipeline=pipe, recompute=True)
        for start, end in ((dt.date(2031, 1, 1), None), (None, dt.date(2030, 7, 1)),
                           (dt.date(2030, 6, 1), dt.date(2031, 2, 1)), (dt.date(2030, 6, 10), None)):
            assert forecast(user, by=by, start=start, end=end) == \
                forecast(user, by=by, start=start, end=end, recompute=True)
    for text in ("2030-03", "2031-12", "2030-Q4", "2031", "2030", "1960"):
        for currency in ("CNY", "USD"):
            period = parse_period(text)
            assert leaderboard(user, period, currency) == leaderboard(user, period, currency, recompute=True)
    for year in (2030, 2031, 2032):
        assert year_over_year(user, year) == year_over_year(user, year, recompute=True)


@pytest.mark.parametrize("who", ["admin", "manager_a", "rep_a", "rep_a2", "rep_b", "viewer"])
def test_figures_from_the_summary_equal_those_from_the_opportunities(varied, users, who):
    assert_kept()
    assert forecast(users[who])  # not trivially equal
    assert_same_figures(users[who])


def test_shared_opportunities_count_for_whom_they_are_shared_with(varied, users):
    """rep_b's opportunities shared with rep_a are in rep_a's forecast (they may see them) but not in rep_a's
    leaderboard row (a rep's row is their own deals); rep_a2's deals filed under team b count for manager_a
    only where shared with them."""
    rep_a, manager = users["rep_a"], users["manager_a"]
    shared = Opportunity.objects.filter(pk__in=Share.objects.filter(user=rep_a).values("object_id"),
                                        owner=users["rep_b"], status__in=[StageKind.OPEN, StageKind.WON])
    assert shared.exists()
    assert users["rep_b"].pk in {r["group_id"] for r in forecast(rep_a)}
    moved = Opportunity.objects.filter(owner=users["rep_a2"], team=users["rep_b"].team)
    assert moved.exists() and moved.filter(pk__in=Share.objects.filter(user=manager).values("object_id")).exists()
    assert_same_figures(manager)


def test_an_inactive_user_sees_nothing(varied, users):
    admin = users["admin"]
    User.objects.filter(pk=admin.pk).update(is_active=False)
    admin.refresh_from_db()
    assert forecast(admin) == [] and year_over_year(admin, 2031) == []
    assert_same_figures(admin)


# ---------------------------------------------------------------- pages and the API: a few queries

@pytest.mark.parametrize("who", ["admin", "manager_a", "rep_a"])
def test_views_run_a_fixed_number_of_queries(varied, varied_orders, users, teams, client, who,
                                             django_assert_max_num_queries):
    def measure():
        counts = []
        client.force_login(users[who])
        for url in ("/sales/forecast/", "/api/v1/forecast", "/api/v1/forecast?by=team",
                    "/api/v1/performance/leaderboard?period=2031-03", "/api/v1/performance/leaderboard?period=2031",
                    "/api/v1/performance/year-over-year?year=2031", "/sales/performance/?period=2031-03&year=2031"):
            with django_assert_max_num_queries(40) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
        return counts

    measure()  # the company profile (base currency) is made on first use
    before = measure()
    for i in range(3):  # more reps, deals and orders: the same queries
        extra = create_user(None, username=f"extra{i}", password="correct-horse-9", role=Role.SALES_REP,
                            team=teams["a"])
        account = customer_services.create_account(extra, {"name": f"extra{i} 客户"})
        for kind in StageKind.values:
            Opportunity.objects.create(name="x", account=account, pipeline=varied[0].pipeline, stage=varied[0].stage,
                                       status=kind, amount=Decimal("10.00"), expected_close=dt.date(2031, 3, 1),
                                       closed_at=None if kind == StageKind.OPEN else at(2031, 3, 2), owner=extra,
                                       team=teams["a"])
        for status in OrderStatus.values:
            Order.objects.create(number=f"extra{i}{status}", account=account, owner=extra, team=teams["a"],
                                 ordered_on=dt.date(2031, 3, 1), net_total=Decimal("10.00"), status=status)
    assert measure() == before
    forecast_page, forecast_api, by_team, month, year, yoy, page = before
    # Session and user; the subtree and shares look-ups (a manager and a rep with shares also read their shared
    # opportunities); the zone check; one query per figure; names, quotas, rates; the page's menus.
    limits = {"admin": (7, 4, 6, 6, 14), "manager_a": (10, 8, 13, 13, 30), "rep_a": (9, 6, 8, 8, 20)}[who]
    counts = (forecast_page, max(forecast_api, by_team), max(month, year), yoy, page)
    assert all(n <= most for n, most in zip(counts, limits, strict=True)), counts


@pytest.mark.parametrize("kept", [summary.OPPORTUNITIES, summary.ORDERS, summary.ACCOUNTS],
                         ids=["opportunities", "orders", "accounts"])
def test_the_triggers_are_in_place_after_all_migrations(kept):
    """A migration that makes SQLite rebuild sales_opportunity or sales_order drops its triggers; such a migration
    must call summary.install(schema_editor, kept) again, or the summary silently stops following the table."""
    names = {f"{kept.table}_{t}" for t in ("ai", "au", "ad")}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [kept.source])
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [kept.source])
        assert names <= {r[0] for r in cursor.fetchall()}
