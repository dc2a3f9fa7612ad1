"""A small seeded order history in the database for the analytics app tests: accounts owned by the given
users, orders drawn from the BG/NBD process (guanxi.analytics.simulate), a few cancelled orders that must
not count, and order lines over a handful of products where some are bought together."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np

from guanxi.analytics.simulate import bgnbd_transactions
from guanxi.customers.models import Account
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus


def make_history(owners: list, n_accounts: int = 120, seed: int = 7, start: str = "2025-01-01",
                 days: int = 365) -> dict:
    """Accounts round-robin over `owners`; returns {"accounts": [...], "as_of": date, "products": [...]}."""
    rng = np.random.default_rng(seed)
    accounts = Account.objects.bulk_create([
        Account(name=f"客户{seed}-{i:04d}", owner=owners[i % len(owners)], team_id=owners[i % len(owners)].team_id,
                industry=["manufacturing", "retail", "healthcare"][i % 3], classification="ABC"[i % 3])
        for i in range(n_accounts)])
    products = Product.objects.bulk_create([Product(code=f"P{seed}-{k}", name=f"产品{k}") for k in range(6)])
    tx = bgnbd_transactions(n_accounts, seed=seed, start=start, days=days, r=0.9, alpha=8.0)
    orders = []
    for i, row in enumerate(tx.itertuples(index=False)):
        account = accounts[int(row.customer)]
        orders.append(Order(number=f"T{seed}-{i:06d}", account=account, owner=account.owner, team_id=account.team_id,
                            ordered_on=row.date.date(), gross_total=Decimal(str(row.amount)),
                            net_total=Decimal(str(row.amount)), status=OrderStatus.CONFIRMED))
    for j in range(0, len(tx), 9):  # cancelled orders: never counted
        account = accounts[int(tx.customer.iloc[j])]
        orders.append(Order(number=f"X{seed}-{j:06d}", account=account, owner=account.owner,
                            ordered_on=tx.date.iloc[j].date(), gross_total=Decimal("99999.00"),
                            status=OrderStatus.CANCELLED))
    orders = Order.objects.bulk_create(orders)
    lines = []
    for order in orders:  # product 0 usually comes with 1; 2 with 3; the rest at random
        first = int(rng.integers(0, 6))
        picked = {first}
        if first in (0, 2) and rng.random() < 0.8:
            picked.add(first + 1)
        for k in sorted(picked):
            lines.append(OrderLine(order=order, product=products[k], description=products[k].name,
                                   quantity=Decimal(1), unit_price=order.gross_total))
    OrderLine.objects.bulk_create(lines)
    last = max(o.ordered_on for o in orders)
    return {"accounts": accounts, "as_of": last + dt.timedelta(days=1), "products": products}


def export_orders(path: Path) -> Path:
    """The counted orders as a CSV file (customer, date, amount), as an analyst would export them."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer", "date", "amount"])
        for account, day, total in (Order.objects.exclude(status=OrderStatus.CANCELLED).order_by("id")
                                    .values_list("account_id", "ordered_on", "gross_total")):
            writer.writerow([account, day.isoformat(), total])
    return path
