"""Demo order history, so that the analytics pages of `make demo` show something: two years of orders for
the first demo accounts (the BG/NBD process of simulate.py, products from the demo catalogue, some sold
together); `make demo` then scores them once (core.demo)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal

import numpy as np

from guanxi.customers.models import Account
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus

from .simulate import bgnbd_transactions

log = logging.getLogger(__name__)
HISTORY_ACCOUNTS = 2000  # at most this many accounts get a history
BATCH = 2000


def create_demo_history(seed: int, first_account_id: int, today: dt.date, limit: int = HISTORY_ACCOUNTS) -> int:
    """Confirmed orders over the two years before `today` for up to `limit` of the demo's accounts with an
    owner; each order has one or two lines (the catalogue's products in pairs now and then, for "bought
    together"). Returns how many orders."""
    started = time.monotonic()
    accounts = list(Account.objects.filter(pk__gte=first_account_id, owner__isnull=False).order_by("pk")
                    .values_list("pk", "owner_id", "team_id")[:limit])
    products = list(Product.objects.filter(active=True).order_by("pk").values_list("pk", "name"))
    if not accounts or not products:
        return 0
    start = today - dt.timedelta(days=730)
    tx = bgnbd_transactions(len(accounts), seed=seed, start=start.isoformat(), days=730, r=0.9, alpha=20.0,
                            spend=(6.0, 4.0, 6000.0))  # about 10,000 yuan an order
    tx = tx[tx.date.dt.date < today]
    rng = np.random.default_rng(seed)
    made = 0
    rows = list(tx.itertuples(index=False))
    for at in range(0, len(rows), BATCH):
        orders = []
        for i, row in enumerate(rows[at:at + BATCH], start=at):
            pk, owner, team = accounts[int(row.customer)]
            amount = Decimal(str(row.amount))
            orders.append(Order(number=f"H{seed}-{i:07d}", account_id=pk, owner_id=owner, team_id=team,
                                currency="CNY", ordered_on=row.date.date(), status=OrderStatus.CONFIRMED,
                                net_total=amount, gross_total=amount))
        orders = Order.objects.bulk_create(orders)
        lines = []
        for order in orders:
            first = int(rng.integers(0, len(products)))
            picked = [first]
            if first % 3 == 0 and first + 1 < len(products) and rng.random() < 0.6:  # sold together
                picked.append(first + 1)
            share = (order.net_total / len(picked)).quantize(Decimal("0.01"))
            for position, k in enumerate(picked):
                lines.append(OrderLine(order=order, position=position, product_id=products[k][0],
                                       description=products[k][1], quantity=Decimal(1), unit_price=share,
                                       net=share, gross=share))
        OrderLine.objects.bulk_create(lines)
        made += len(orders)
    log.info("demo: %d orders of history for %d accounts in %.1f s", made, len(accounts),
             time.monotonic() - started)
    return made
