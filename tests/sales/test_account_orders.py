"""The orders per account (summary_models.AccountOrders, sales/summary.py's ACCOUNTS), kept by database triggers.

After every kind of change to the orders — one insert, bulk inserts (bulk_create, the import writer's multi-row
INSERT / COPY, an INSERT … SELECT), status to and from cancelled, amount, order date moved earlier and later (the
first day and the repeat total move), account changed, delete, the account deleted (cascade) — the table equals a
recomputation made here in Python from the orders, and analytics' customer_summary read from it equals both of its
recomputations over the orders ("sql" and "read"). (The triggers after all migrations: tests/sales/test_summary.py.)
"""

import datetime as dt
import json
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from django.db import connection

from guanxi import cli
from guanxi.analytics import queries
from guanxi.customers import services as customer_services
from guanxi.customers.import_writer import insert_rows
from guanxi.customers.models import Account
from guanxi.sales import summary
from guanxi.sales.quote_models import Order, OrderStatus
from guanxi.sales.summary_models import AccountOrders
from tests.sales.test_summary import _db

pytestmark = pytest.mark.django_db
LATE = dt.date(2099, 12, 31)  # after every order of these tests


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def recomputed() -> dict[int, tuple]:
    """The rows as they should be, computed here from the orders, independently of the SQL that keeps them."""
    days: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[int, int] = defaultdict(int)
    for o in Order.objects.exclude(status=OrderStatus.CANCELLED):
        days[o.account_id][o.ordered_on] += cents(o.gross_total)
        counts[o.account_id] += 1
    out = {}
    for account, by_day in days.items():
        first, total = min(by_day), sum(by_day.values())
        out[account] = (first, max(by_day), len(by_day), counts[account], total, total - by_day[first])
    return out


def stored() -> dict[int, tuple]:
    return {r.account_id: (r.first_day, r.last_day, r.order_days, r.orders, r.total, r.repeat_total)
            for r in AccountOrders.objects.all()}


def assert_same(kept: queries.CustomerSummary, other: queries.CustomerSummary) -> None:
    assert kept.as_of == other.as_of
    for name in ("account_ids", "first_day", "last_day", "order_days", "orders"):
        assert getattr(kept, name).tolist() == getattr(other, name).tolist(), name
    for name in ("total", "repeat_total"):
        assert getattr(kept, name) == pytest.approx(getattr(other, name), rel=1e-12, abs=1e-9), name


def assert_kept() -> None:
    assert stored() == recomputed()
    assert summary.differences() == []
    kept = queries.customer_summary(LATE, "kept")
    assert_same(kept, queries.customer_summary(LATE, "sql"))
    assert_same(kept, queries.customer_summary(LATE, "read"))


def make_order(account, day, gross, status=OrderStatus.CONFIRMED):
    return Order.objects.create(number=f"SO-{random.random()}", account=account, ordered_on=day,
                                gross_total=Decimal(gross), net_total=Decimal(gross), status=status)


@pytest.fixture
def accounts(users):
    return [customer_services.create_account(users["rep_a"], {"name": f"客户{i}"}) for i in range(3)]


def test_single_changes_keep_it(accounts):
    a, b, c = accounts
    first = make_order(a, dt.date(2031, 3, 10), "100.10")
    assert_kept()
    same_day = make_order(a, dt.date(2031, 3, 10), "0.05")  # an order, not an order day
    later = make_order(a, dt.date(2031, 5, 1), "200.20")
    make_order(b, dt.date(2030, 1, 1), "7.00")
    make_order(c, dt.date(2030, 1, 1), "99999.99", status=OrderStatus.CANCELLED)  # no row for c
    assert_kept()
    assert AccountOrders.objects.get(account_id=a.pk).repeat_total == 20020
    assert not AccountOrders.objects.filter(account_id=c.pk).exists()

    make_order(a, dt.date(2031, 2, 1), "1.00")  # inserted before the first day
    assert AccountOrders.objects.get(account_id=a.pk).repeat_total == 10015 + 20020
    make_order(a, dt.date(2031, 2, 1), "2.00")  # on the first day
    assert_kept()
    Order.objects.filter(account=a, ordered_on=dt.date(2031, 2, 1)).delete()
    assert AccountOrders.objects.get(account_id=a.pk).repeat_total == 20020
    Order.objects.filter(pk=later.pk).update(ordered_on=dt.date(2031, 1, 1))  # earlier: the new first day
    assert AccountOrders.objects.get(account_id=a.pk).repeat_total == 10015
    assert_kept()
    Order.objects.filter(pk=later.pk).update(ordered_on=dt.date(2031, 6, 1))  # later again
    assert_kept()
    Order.objects.filter(pk=first.pk).update(ordered_on=dt.date(2031, 7, 1))  # the first day moves later
    assert_kept()
    Order.objects.filter(pk=same_day.pk).update(gross_total=Decimal("12345.67"))  # amount
    assert_kept()
    Order.objects.filter(pk=first.pk).update(status=OrderStatus.CANCELLED)  # to cancelled
    assert_kept()
    Order.objects.filter(pk=first.pk).update(status=OrderStatus.DELIVERED)  # and back
    assert_kept()
    Order.objects.filter(account=c).update(status=OrderStatus.PARTIAL)  # c's only order now counts
    assert AccountOrders.objects.filter(account_id=c.pk).exists()
    assert_kept()
    Order.objects.filter(pk=later.pk).update(account=b)  # moved to another account
    assert_kept()
    Order.objects.filter(account=b).update(account=c, gross_total=Decimal("1.00"))  # two at once
    assert not AccountOrders.objects.filter(account_id=b.pk).exists()
    assert_kept()
    Order.objects.filter(pk=same_day.pk).update(number="改号", tax_total=Decimal("3.00"))  # nothing it reads
    assert_kept()
    Order.objects.filter(pk=same_day.pk).delete()
    assert_kept()
    Order.objects.filter(account=a).update(status=OrderStatus.CANCELLED)
    assert not AccountOrders.objects.filter(account_id=a.pk).exists()
    assert_kept()


def test_deleting_an_account_cascades_to_its_row(users, accounts):
    a, b, _c = accounts
    for k in range(4):
        make_order(a, dt.date(2031, 1 + k, 1), f"{k}0.00")
    make_order(b, dt.date(2031, 2, 2), "5.00")
    assert_kept()
    customer_services.delete_account(users["admin"], Account.objects.get(pk=a.pk))
    assert set(stored()) == {b.pk}
    assert_kept()
    Order.objects.all().delete()
    assert not AccountOrders.objects.exists()


def test_bulk_inserts_and_updates_keep_it(users, accounts):
    """bulk_create, the import writer's multi-row INSERT / COPY, one INSERT … SELECT, and updates and deletes of
    many orders of many accounts in one statement."""
    rng = random.Random(7)

    def day():
        return dt.date(2030, 1, 1) + dt.timedelta(days=rng.randrange(60))  # same days often

    def amount():
        return Decimal(rng.randrange(1, 10**7)) / 100

    Order.objects.bulk_create([
        Order(number=f"B{i}", account=rng.choice(accounts), ordered_on=day(), gross_total=amount(),
              net_total=Decimal(0), status=rng.choice(OrderStatus.values)) for i in range(60)])
    assert_kept()
    more = [customer_services.create_account(users["rep_b"], {"name": f"批量{i}"}) for i in range(5)]
    columns = ("created_at", "updated_at", "account_id", "currency", "net_total", "tax_total", "gross_total",
               "number", "status", "ordered_on")
    now = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    insert_rows(Order, columns, [tuple(_db(v) for v in (
        now, now, rng.choice(accounts + more).pk, "CNY", Decimal(0), Decimal(0), amount(), f"I{i}",
        rng.choice(OrderStatus.values), day())) for i in range(200)])
    assert_kept()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sales_order (created_at, updated_at, owner_id, team_id, account_id, currency, "
                       "net_total, tax_total, gross_total, number, status, ordered_on) SELECT created_at, "
                       "updated_at, owner_id, team_id, account_id, currency, net_total, tax_total, "
                       "gross_total + 0.01, 'C' || number, status, ordered_on FROM sales_order "
                       "WHERE number LIKE 'I%%'")
    assert_kept()
    Order.objects.filter(number__startswith="C", status=OrderStatus.CANCELLED).update(status=OrderStatus.CONFIRMED)
    Order.objects.filter(number__startswith="I", account__in=more[:2]).update(account=more[4])
    Order.objects.filter(number__startswith="B").update(ordered_on=dt.date(2029, 12, 31))
    assert_kept()
    Order.objects.filter(number__startswith="C").delete()
    assert_kept()


def test_an_earlier_as_of_falls_back_to_the_orders(accounts, django_assert_max_num_queries):
    a, b, _c = accounts
    for k in range(5):
        make_order(a, dt.date(2031, 1, 1) + dt.timedelta(days=30 * k), "10.00")
        make_order(b, dt.date(2031, 1, 15) + dt.timedelta(days=45 * k), "3.33")
    make_order(b, dt.date(2032, 1, 1), "1.00", status=OrderStatus.CANCELLED)  # a cancelled one does not count
    newest = dt.date(2031, 1, 15) + dt.timedelta(days=180)
    assert queries.kept_covers(newest) and not queries.kept_covers(newest - dt.timedelta(days=1))
    with django_assert_max_num_queries(2):  # the look-up and the read
        kept = queries.customer_summary(newest)
    assert_same(kept, queries.customer_summary(newest, "kept"))
    assert_same(kept, queries.customer_summary(newest, "sql"))
    earlier = dt.date(2031, 3, 1)  # some orders are after it: the kept rows do not apply
    with pytest.raises(ValueError):
        queries.customer_summary(earlier, "kept")
    fallback = queries.customer_summary(earlier)
    assert_same(fallback, queries.customer_summary(earlier, "sql"))
    assert_same(fallback, queries.customer_summary(earlier, "read"))
    assert fallback.orders.tolist() == [2, 2] and kept.orders.tolist() == [5, 5]


def test_the_check_finds_a_broken_row_and_the_rebuild_mends_it(accounts, capsys):
    a, b, c = accounts
    make_order(a, dt.date(2031, 3, 1), "500.00")
    make_order(b, dt.date(2031, 4, 1), "800.00")
    make_order(b, dt.date(2031, 4, 9), "1.00")
    assert cli.main(["sales-summary"]) == 0
    AccountOrders.objects.filter(account_id=a.pk).update(total=1)
    AccountOrders.objects.filter(account_id=b.pk).delete()
    AccountOrders.objects.create(account_id=c.pk, first_day=dt.date(2031, 1, 1), last_day=dt.date(2031, 1, 1),
                                 order_days=1, orders=1, total=1, repeat_total=0)
    capsys.readouterr()
    assert cli.main(["sales-summary"]) == 1
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    table = AccountOrders._meta.db_table
    assert {(p["summary"], p["key"]["account_id"]) for p in printed} == {(table, a.pk), (table, b.pk), (table, c.pk)}
    assert cli.main(["sales-summary", "--rebuild"]) == 0
    assert_kept()


def test_scoring_reads_the_kept_rows_with_the_same_result(accounts):
    """RFM from the kept rows equals RFM from the grouped query (the scoring job's default when no order is
    later than its date)."""
    from guanxi.analytics import rfm

    rng = random.Random(3)
    for account in accounts:
        for _ in range(rng.randrange(1, 6)):
            make_order(account, dt.date(2031, 1, 1) + dt.timedelta(days=rng.randrange(200)),
                       f"{rng.randrange(1, 10**5)}.{rng.randrange(100):02d}")
    tables = []
    for method in ("kept", "sql"):
        s = queries.customer_summary(LATE, method)
        tables.append(rfm.rfm_from_summary(s.account_ids, s.as_of - s.last_day, s.orders, s.total))
    assert tables[0].drop(columns="monetary").equals(tables[1].drop(columns="monetary"))
    assert np.allclose(tables[0]["monetary"], tables[1]["monetary"], rtol=1e-12)


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_account_both_count(users):
    """PostgreSQL: two transactions adding an order to the same account at the same time. The second one's trigger
    waits for the first to commit, then makes the row from both orders (without the wait it would make it from its
    own snapshot, missing the first's order). SQLite has one writer at a time."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    import threading

    from django.db import connections, transaction

    account = customer_services.create_account(users["rep_a"], {"name": "并发客户"})
    make_order(account, dt.date(2031, 1, 1), "1.00")
    first_in, first_go = threading.Event(), threading.Event()

    def write(day, gross, hold):
        try:
            with transaction.atomic():
                make_order(account, day, gross)
                if hold:
                    first_in.set()
                    first_go.wait(30)
        finally:
            connections.close_all()

    first = threading.Thread(target=write, args=(dt.date(2030, 6, 1), "10.00", True))
    first.start()
    assert first_in.wait(30)
    second = threading.Thread(target=write, args=(dt.date(2031, 2, 1), "100.00", False))
    second.start()
    with connection.cursor() as cursor:  # the second waits for the first
        for _ in range(3000):
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                break
        else:
            pytest.fail("the second writer did not wait")
    first_go.set()
    first.join(30)
    second.join(30)
    assert stored()[account.pk] == (dt.date(2030, 6, 1), dt.date(2031, 2, 1), 3, 3, 11100, 10100)
    assert_kept()
