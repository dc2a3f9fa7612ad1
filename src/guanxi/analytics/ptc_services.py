"""Target customers for a product in the app: the plain ranking of analytics.ptc over the CRM's orders, cut to
the accounts the user may see; and the one-click actions on the list: a task for each owner (the playbooks'
owner_tasks), a tag for the accounts (customers' bulk_tag: tags are the segments the account list filters by),
or a CSV file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Task, TaskStatus
from guanxi.core.access import require_editor
from guanxi.core.models import User
from guanxi.customers.models import Account
from guanxi.customers.services import bulk_tag
from guanxi.sales.catalog_models import Product

from . import ptc, queries
from .errors import AnalyticsInputError
from .playbook_services import owner_tasks

TOP = 50
MAX_TOP = 500
CHUNK = 1000  # candidates checked for visibility per query


@dataclass
class Target:
    account: Account
    score: float
    cf_score: float
    bought: bool
    reasons: list[tuple[Product | None, float]]


@dataclass
class Targets:
    product: Product
    rows: list[Target] = field(default_factory=list)
    method: str = ""
    buyers: int = 0
    message: str = ""  # why there is no ranking


def clean_top(value: Any) -> int:
    """The list length from a request: 1–MAX_TOP, TOP when empty; a field error under `top` otherwise."""
    if value in (None, ""):
        return TOP
    try:
        top = int(value)
    except (TypeError, ValueError):
        top = 0
    if not 1 <= top <= MAX_TOP:
        raise ValidationError({"top": [_("Enter a whole number from 1 to %(n)d.") % {"n": MAX_TOP}]})
    return top


def _features(recompute: bool = False) -> pd.DataFrame:
    """Recency, frequency and spend per account: the ones the last scoring run stored (CustomerScore, one plain
    read), or aggregated from the orders when customers have not been scored yet. `recompute` aggregates the
    orders anyway, as of the stored scores' date (today without any): the same figures, for the checks."""
    from .score_models import CustomerScore

    stored = CustomerScore.objects.order_by()
    if not recompute:
        with connection.cursor() as cursor:  # a million rows: straight from the cursor into numpy
            cursor.execute(*stored.values_list("account_id", "recency_days", "frequency", "monetary")
                           .query.sql_with_params())
            rows = np.fromiter(cursor, dtype=[("account", np.int64), ("recency_days", np.int64),
                                              ("frequency", np.int64), ("monetary", np.float64)])
        if len(rows):
            return pd.DataFrame({c: rows[c] for c in ptc.FEATURES}, index=pd.Index(rows["account"]))
        as_of = timezone.localdate()
    else:
        as_of = stored.values_list("as_of", flat=True).first() or timezone.localdate()
    summary = queries.customer_summary(as_of)
    return pd.DataFrame({"recency_days": summary.as_of - summary.last_day, "frequency": summary.orders,
                         "monetary": summary.total}, index=pd.Index(summary.account_ids))


def target_customers(user: User, product: Product, top: int = TOP, include_buyers: bool = False,
                     recompute: bool = False) -> Targets:
    """The `top` accounts the user may see, most likely to buy `product` first, with the products behind each
    score. A few queries: the purchases, the stored RFM figures (the scoring run's; `recompute` aggregates
    the orders instead, see _features), visibility per CHUNK candidates, the accounts and the reason
    products."""
    result = Targets(product)
    accounts, products = queries.account_products()
    if not len(accounts):
        result.message = _("There are no orders with products yet.")
        return result
    matrix = ptc.PurchaseMatrix.from_pairs(accounts, products)
    try:
        ranking = ptc.propensity(matrix, product.pk, features=_features(recompute), include_buyers=include_buyers)
    except AnalyticsInputError:
        result.message = _("Nobody has ordered this product yet, so there is nothing to learn from.")
        return result
    result.method, result.buyers = ranking.method, ranking.buyers
    table = ranking.table
    picked = _visible(user, table["customer"].to_numpy(dtype=np.int64), top)
    found = Account.objects.select_related("owner").in_bulk(picked)
    rows = table.set_index("customer").loc[picked]
    names = Product.objects.in_bulk({p for reasons in rows["reasons"] for p, _w in reasons})
    result.rows = [Target(found[pk], float(r.score), float(r.cf_score), bool(r.bought),
                          [(names.get(p), w) for p, w in r.reasons])
                   for pk, r in zip(picked, rows.itertuples(), strict=True) if pk in found]
    return result


def _visible(user: User, ranked: np.ndarray, top: int) -> list[int]:
    """The first `top` ids of `ranked` the user may see, in ranked order."""
    if user.is_authenticated and user.is_active and user.is_administrator:
        return [int(a) for a in ranked[:top]]
    picked: list[int] = []
    for start in range(0, len(ranked), CHUNK):
        chunk = [int(a) for a in ranked[start:start + CHUNK]]
        seen = set(Account.objects.visible_to(user).filter(pk__in=chunk).values_list("pk", flat=True))
        picked += [a for a in chunk if a in seen][:top - len(picked)]
        if len(picked) >= top:
            break
    return picked


def _title(product: Product) -> str:
    return _("Offer %(product)s") % {"product": product.name}


@transaction.atomic
def make_call_list(actor: User, product: Product, top: int = TOP) -> tuple[list[Task], int]:
    """A task "Offer <product>" for the owner of each of the top accounts the actor may edit, due in two days;
    accounts that already have that open task are skipped, so a second click adds nothing. Returns the new
    tasks and how many accounts were skipped."""
    require_editor(actor)
    rows = target_customers(actor, product, top).rows
    editable = set(Account.objects.editable_by(actor).filter(pk__in=[r.account.pk for r in rows])
                   .values_list("pk", flat=True))
    title = _title(product)
    busy = set(Task.objects.filter(account__in=editable, title=title, status=TaskStatus.OPEN)
               .values_list("account_id", flat=True))
    accounts = [r.account for r in rows if r.account.pk in editable and r.account.pk not in busy]
    reasons = {r.account.pk: ", ".join(p.name for p, _w in r.reasons if p) for r in rows}
    tasks, skipped = [], len(rows) - len(accounts)
    for account in accounts:  # one call of the shared helper per account: each task has its own reasons
        description = _("Likely to buy %(product)s (target customers list).") % {"product": product.name}
        if reasons.get(account.pk):
            description += " " + _("Bought: %(products)s.") % {"products": reasons[account.pk]}
        made, missed = owner_tasks(actor, [account], title, description, 48, priority="normal")
        tasks += made
        skipped += missed
    return tasks, skipped


def save_segment(actor: User, product: Product, tag: str, top: int = TOP) -> int:
    """Tag the top accounts the actor may edit (a segment the account list filters by); returns how many
    were newly tagged."""
    if not str(tag or "").strip():
        raise ValidationError({"tag": [_("Name the tag the accounts are added to.")]})
    rows = target_customers(actor, product, top).rows
    return bulk_tag(actor, "account", [r.account.pk for r in rows], [tag])


CSV_HEADERS = ["rank", "account_id", "account", "owner", "score", "reasons"]


def csv_rows(targets: Targets) -> list[list[Any]]:
    return [[i + 1, r.account.pk, r.account.name, str(r.account.owner or ""), round(r.score, 4),
             "; ".join(f"{p.name if p else '?'} ({w:g})" for p, w in r.reasons)]
            for i, r in enumerate(targets.rows)]
