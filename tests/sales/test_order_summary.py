"""The monthly summary of orders (summary_models.OrderMonth, sales/summary.py's ORDERS), kept by database triggers.

After every kind of change — accepting a quote, deliveries moving the status, queryset updates (owner, team,
status, currency, net total, order date, and columns it does not read), deletes, cascades from deleting an account,
a team or a user, bulk inserts (bulk_create, the multi-row INSERT / COPY writer, an INSERT … SELECT like the
bench's) — the table equals a recomputation made here in Python from the orders. And year on year read from it
gives exactly what it gives reading the orders, for every kind of user, shared orders included. (The views'
query counts and the triggers after all migrations: tests/sales/test_summary.py, for both summaries.)"""

import datetime as dt
import json
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from guanxi import cli
from guanxi.core.models import Role, Share, Team, User
from guanxi.core.services import create_user
from guanxi.customers import services as customer_services
from guanxi.customers.import_writer import insert_rows
from guanxi.customers.models import Account
from guanxi.sales import delivery_services, summary
from guanxi.sales.performance import gross_by_month, year_over_year
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus
from guanxi.sales.summary_models import OrderMonth
from tests.sales.test_summary import _db

pytestmark = pytest.mark.django_db


def recomputed() -> dict[tuple, tuple]:
    """The summary as it should be, computed here from the orders, independently of the SQL that keeps it."""
    out: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])
    for o in Order.objects.all():
        acc = out[(o.ordered_on.year * 100 + o.ordered_on.month, o.owner_id or 0, o.team_id or 0, o.status,
                   o.currency)]
        acc[0] += 1
        acc[1] += int((o.net_total * 100).to_integral_value(ROUND_HALF_UP))
        acc[2] += int((o.gross_total * 100).to_integral_value(ROUND_HALF_UP))
    return {k: tuple(v) for k, v in out.items()}


def stored() -> dict[tuple, tuple]:
    return {(r.month, r.owner_id, r.team_id, r.status, r.currency): (r.n, r.amount, r.gross)
            for r in OrderMonth.objects.all()}


def assert_kept():
    assert stored() == recomputed()
    assert summary.differences() == []


def make_order(owner, account, day, net, status=OrderStatus.CONFIRMED, currency="CNY", number=None):
    return Order.objects.create(number=number or f"SO-{random.random()}", account=account, owner=owner,
                                team_id=owner.team_id if owner else None, ordered_on=day, currency=currency,
                                net_total=Decimal(net), gross_total=Decimal(net) * Decimal("1.13"), status=status)


def test_accepting_quotes_and_deliveries_keep_it(users, order):
    """The `order` fixture is a quote accepted through the services; deliveries move it to partial, then
    delivered."""
    assert OrderMonth.objects.get().n == 1
    assert_kept()
    servers, install = OrderLine.objects.filter(order=order).order_by("position")
    delivery_services.record_delivery(users["rep_a"], order, {"lines": [{"order_line_id": servers.pk,
                                                                         "quantity": "4"}]})
    assert OrderMonth.objects.get().status == OrderStatus.PARTIAL
    assert_kept()
    order.refresh_from_db()
    delivery_services.record_delivery(users["rep_a"], order, {"lines": [
        {"order_line_id": servers.pk, "quantity": "6"}, {"order_line_id": install.pk, "quantity": "3"}]})
    assert OrderMonth.objects.get().status == OrderStatus.DELIVERED
    assert_kept()


def test_updates_deletes_and_cascades_keep_it(users, teams):
    rep, rep2, admin = users["rep_a"], users["rep_a2"], users["admin"]
    account = customer_services.create_account(rep, {"name": "订单客户"})
    other = customer_services.create_account(rep2, {"name": "另一个订单客户"})
    orders = [make_order(rep, account, dt.date(2031, m, 28), f"{m}00.25") for m in range(1, 7)]
    make_order(rep2, other, dt.date(2030, 12, 31), "0.01", currency="USD")
    make_order(rep2, other, dt.date(2030, 12, 1), "99999999.99", status=OrderStatus.CANCELLED)
    assert_kept()
    Order.objects.filter(pk=orders[0].pk).update(ordered_on=dt.date(2031, 2, 1))  # another month
    Order.objects.filter(pk=orders[1].pk).update(status=OrderStatus.CANCELLED, currency="EUR")
    Order.objects.filter(pk__in=[o.pk for o in orders[2:4]]).update(net_total=Decimal("12.34"))
    Order.objects.filter(pk=orders[5].pk).update(gross_total=Decimal("0.05"))
    Order.objects.filter(owner=rep2).update(owner=rep, team=teams["b"])
    Order.objects.filter(pk=orders[4].pk).update(tax_total=Decimal("1.00"), number="改号")  # nothing summed
    assert_kept()
    customer_services.delete_account(admin, Account.objects.get(pk=other.pk))  # cascades in SQL
    assert Order.objects.count() == 6
    assert_kept()
    gone = Team.objects.create(name="临时组", parent=teams["company"])
    temp = create_user(None, username="temp", password="correct-horse-9", role=Role.SALES_REP, team=gone)
    make_order(temp, account, dt.date(2031, 5, 5), "10.00")
    gone.delete()  # the orders' team is set to NULL
    assert_kept()
    User.objects.filter(pk=temp.pk).delete()  # and their owner
    assert Order.objects.filter(owner__isnull=True, team__isnull=True).count() == 1
    assert_kept()
    Order.objects.filter(net_total=Decimal("12.34")).delete()
    assert_kept()
    Order.objects.all().delete()
    assert not OrderMonth.objects.exists()  # rows reaching a count of 0 go


def test_bulk_inserts_keep_it(users):
    """bulk_create, the import writer's multi-row INSERT / COPY, and one INSERT … SELECT (the bench's way)."""
    rep, rep_b = users["rep_a"], users["rep_b"]
    account = customer_services.create_account(rep, {"name": "批量订单客户"})
    rng = random.Random(5)
    Order.objects.bulk_create([
        Order(number=f"B{i}", account=account, owner=rep, team_id=rep.team_id, currency=rng.choice(["CNY", "USD"]),
              ordered_on=dt.date(2030, 1, 1) + dt.timedelta(days=rng.randrange(730)),
              net_total=Decimal(rng.randrange(1, 10**8)) / 100, status=rng.choice(OrderStatus.values))
        for i in range(50)])
    assert_kept()
    columns = ("created_at", "updated_at", "owner_id", "team_id", "account_id", "currency", "net_total", "tax_total",
               "gross_total", "number", "status", "ordered_on")
    now = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(200):
        owner = rng.choice([rep, rep_b])
        day = dt.date(2030, 1, 1) + dt.timedelta(days=rng.randrange(730))
        rows.append(tuple(_db(v) for v in (
            now, now, owner.pk, owner.team_id, account.pk, rng.choice(["CNY", "EUR"]),
            Decimal(rng.randrange(1, 10**8)) / 100, Decimal(0), Decimal(rng.randrange(1, 10**8)) / 100, f"I{i}",
            rng.choice(OrderStatus.values), day)))
    insert_rows(Order, columns, rows)
    assert_kept()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sales_order (created_at, updated_at, owner_id, team_id, account_id, currency, "
                       "net_total, tax_total, gross_total, number, status, ordered_on) SELECT created_at, "
                       "updated_at, owner_id, team_id, account_id, currency, net_total + 0.01, tax_total, "
                       "gross_total, 'C' || number, status, ordered_on FROM sales_order WHERE number LIKE 'I%%'")
    assert_kept()
    Order.objects.filter(currency="EUR").update(currency="CNY", status=OrderStatus.DELIVERED)
    Order.objects.filter(number__startswith="C").delete()
    assert_kept()


def test_the_check_finds_a_broken_summary_and_the_rebuild_mends_it(users, capsys):
    account = customer_services.create_account(users["rep_a"], {"name": "订单客户"})
    make_order(users["rep_a"], account, dt.date(2031, 3, 1), "500.00")
    make_order(users["rep_a"], account, dt.date(2031, 4, 1), "800.00")
    assert cli.main(["sales-summary"]) == 0
    OrderMonth.objects.filter(month=203103).update(amount=1)
    OrderMonth.objects.filter(month=203104).delete()
    capsys.readouterr()
    assert cli.main(["sales-summary"]) == 1
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(p["summary"], p["key"]["month"]) for p in printed} == {(OrderMonth._meta.db_table, 203103),
                                                                    (OrderMonth._meta.db_table, 203104)}
    assert cli.main(["sales-summary", "--rebuild"]) == 0
    assert_kept()


# ---------------------------------------------------------------- the figures read from it

@pytest.mark.parametrize("who", ["admin", "manager_a", "rep_a", "rep_a2", "rep_b", "viewer"])
def test_year_over_year_from_the_summary_equals_that_from_the_orders(varied_orders, users, who):
    assert_kept()
    for year in (2030, 2031, 2032):
        assert year_over_year(users[who], year) == year_over_year(users[who], year, recompute=True)
    if who != "viewer":
        assert any(m["orders"]["count"] for c in year_over_year(users[who], 2031) for m in c["months"])


def test_orders_shared_from_beyond_count_where_the_scope_takes_them(varied_orders, users):
    """rep_a2's orders filed under team b and shared with manager_a count for the manager (owner in their team);
    rep_b's orders shared with rep_a do not count for rep_a (a rep's figures are their own)."""
    manager = users["manager_a"]
    moved = Order.objects.filter(owner=users["rep_a2"], team=users["rep_b"].team).exclude(status="cancelled")
    assert moved.filter(pk__in=Share.objects.filter(user=manager).values("object_id")).exists()
    assert year_over_year(manager, 2031) == year_over_year(manager, 2031, recompute=True)
    Share.objects.all().delete()
    assert year_over_year(manager, 2031) == year_over_year(manager, 2031, recompute=True)


@pytest.mark.parametrize("who", ["admin", "manager_a", "rep_a", "rep_b", "viewer"])
def test_gross_by_month_equals_the_sum_of_the_orders_the_user_sees(varied_orders, users, who):
    """What analytics' revenue chart shows: every order the user may see (shared ones included), not cancelled."""
    user = users[who]
    expected = defaultdict(Decimal)
    for day, gross in (Order.objects.visible_to(user).exclude(status=OrderStatus.CANCELLED)
                       .filter(ordered_on__gte=dt.date(2030, 5, 1)).values_list("ordered_on", "gross_total")):
        expected[day.replace(day=1)] += gross
    assert gross_by_month(user, dt.date(2030, 5, 1)) == dict(expected) != {}


def test_an_inactive_user_sees_no_orders(varied_orders, users):
    admin = users["admin"]
    User.objects.filter(pk=admin.pk).update(is_active=False)
    admin.refresh_from_db()
    assert year_over_year(admin, 2031) == [] == year_over_year(admin, 2031, recompute=True)
    assert gross_by_month(admin, dt.date(2030, 1, 1)) == {}
