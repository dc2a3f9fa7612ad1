"""The opportunities and the orders summed per month: what the forecast, the leaderboard and year on year read
instead of a million rows. Database triggers keep them (see sales/summary.py); nothing in Python writes to them
except the rebuild."""

from __future__ import annotations

from django.db import models


class Measure:
    """Which month an opportunity is summed under: each opportunity counts once under each measure (under
    CLOSED only when it has a closing time). Never shown to users."""

    EXPECTED = 1  # the month of expected_close (a date: no time zone involved)
    CLOSED = 2  # the month of closed_at in the company's time zone
    CREATED = 3  # the month of created_at in the company's time zone


class OpportunityMonth(models.Model):
    """How many opportunities of one owner, team, pipeline, status and currency fall in a month under a measure,
    and their amounts. Months are yyyymm integers; 0 stands for none (no expected close, a time outside the
    company months), and 0 owner or team for none. Amounts are in cents, `weighted` is Σ cents × probability
    (so the forecast rounds once, as it does reading the opportunities)."""

    measure = models.PositiveSmallIntegerField()
    month = models.IntegerField()
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    pipeline_id = models.BigIntegerField()
    status = models.CharField(max_length=4)
    currency = models.CharField(max_length=3)
    n = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    weighted = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "month", "owner_id", "team_id", "pipeline_id", "status", "currency"],
                name="opportunitymonth_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.month} {self.owner_id}/{self.team_id} {self.status} {self.currency}"


class CompanyMonth(models.Model):
    """A month in the company's time zone as [starts_at, ends_at) in UTC: how the triggers put a closing or
    creation time into its month without time-zone functions (SQLite has none). `zone` is the TIME_ZONE the
    table was made for; when it is not the current one, the summary of those measures is not used."""

    month = models.IntegerField(primary_key=True)
    starts_at = models.DateTimeField(unique=True)
    ends_at = models.DateTimeField()
    zone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.month} ({self.zone})"


class OrderMonth(models.Model):
    """How many orders of one owner, team, status and currency have their order date in a month, and their net
    and gross totals in cents: what year on year and analytics' revenue chart read instead of a million orders.
    Months are yyyymm integers; 0 owner or team stands for none. Kept by database triggers like OpportunityMonth."""

    month = models.IntegerField()
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    n = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    gross = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "owner_id", "team_id", "status", "currency"],
                                    name="ordermonth_key")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.owner_id}/{self.team_id} {self.status} {self.currency}"


class AccountOrders(models.Model):
    """One account's counted orders (not cancelled): its first and last order date, the distinct days with an
    order, how many orders, their gross total and the repeat total (all but the first day's), in cents. What the
    RFM and lifetime-value scoring read instead of every order (analytics/queries.py `customer_summary`). Kept by
    database triggers that recompute an account's row from its orders whenever one of them changes; an account
    without a counted order has no row."""

    account_id = models.BigIntegerField(primary_key=True)
    first_day = models.DateField()
    last_day = models.DateField()
    order_days = models.IntegerField()
    orders = models.IntegerField()
    total = models.BigIntegerField()
    repeat_total = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.account_id}: {self.orders} orders {self.first_day}–{self.last_day}"
