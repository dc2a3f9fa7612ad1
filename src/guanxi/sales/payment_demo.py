"""Demo contracts, deliveries and payment collection for the demo's orders: most orders get a contract and a
plan of two or three instalments; some are delivered in two shipments, some are paid, and some instalments are
overdue (so the receivables report and the overdue sweep have something to show). Also a USD rate."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import F

from .contract_models import Contract, ContractStatus
from .delivery_models import Delivery, DeliveryLine
from .payment_models import CurrencyRate, Instalment, Payment, PaymentAllocation, PaymentPlan
from .quote_models import Order, OrderLine, OrderStatus
from .quote_services import next_number
from .receivables import split_equal


def _add_days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


def create_demo_collection(seed: int, orders: list[Order], today: dt.date) -> int:
    """Contracts, deliveries and plans for `orders` (set-based inserts); returns how many orders were handled."""
    rng = random.Random(f"payments-{seed}")
    CurrencyRate.objects.get_or_create(currency="USD", valid_from=dt.date(today.year, 1, 1),
                                       defaults={"rate": Decimal("7.10")})
    made = 0
    for order in orders:
        if order.gross_total <= 0 or PaymentPlan.objects.filter(order=order).exists():
            continue
        start = order.ordered_on
        renewal_in = rng.choice([10, 20, 45, 200])  # some renew soon: their owners get a reminder
        end = _add_days(today, renewal_in + 30)
        Contract.objects.create(number=next_number("HT"), account_id=order.account_id, order=order,
                                title=order.quote.title if order.quote_id else order.number, start_date=start,
                                end_date=max(end, start), value=order.gross_total, currency=order.currency,
                                renewal_date=max(_add_days(today, renewal_in), start), status=ContractStatus.ACTIVE,
                                owner_id=order.owner_id, team_id=order.team_id)
        lines = list(OrderLine.objects.filter(order=order))
        shipments = rng.choice([0, 1, 2, 2])
        for n in range(shipments):
            delivery = Delivery.objects.create(order=order, number=next_number("DN"),
                                               shipped_at=_add_days(start, 7 * (n + 1)), carrier=rng.choice(
                                                   ["顺丰速运", "中通快递", "德邦物流", "京东物流"]),
                                               tracking_number=f"SF{rng.randint(10**11, 10**12 - 1)}")
            parts = []
            for ln in lines:
                quantity = ln.quantity if shipments == 1 or n == 1 else (ln.quantity / 2).quantize(Decimal("1"))
                quantity = quantity - ln.delivered_quantity if n == 1 else quantity
                if quantity > 0:
                    parts.append(DeliveryLine(delivery=delivery, order_line=ln, quantity=quantity))
                    ln.delivered_quantity += quantity
            DeliveryLine.objects.bulk_create(parts)
        OrderLine.objects.bulk_update(lines, ["delivered_quantity"])
        if shipments:
            done = all(ln.delivered_quantity >= ln.quantity for ln in lines)
            Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED if done else OrderStatus.PARTIAL)
        count = rng.choice([2, 3])
        plan = PaymentPlan.objects.create(order=order, account_id=order.account_id, currency=order.currency,
                                          total=order.gross_total, owner_id=order.owner_id, team_id=order.team_id)
        first_due = _add_days(today, rng.choice([-100, -50, -20, 10, 30]))
        instalments = Instalment.objects.bulk_create([
            Instalment(plan=plan, position=i, due_date=_add_days(first_due, 30 * i), amount=a)
            for i, a in enumerate(split_equal(order.gross_total, count))])
        due_ones = [i for i in instalments if i.due_date < today]
        paid = due_ones[: rng.randint(0, len(due_ones))]  # the rest of those due are overdue
        for inst in paid:
            payment = Payment.objects.create(plan=plan, received_on=min(inst.due_date, today), amount=inst.amount,
                                             reference=f"回单 {rng.randint(1000, 9999)}")
            PaymentAllocation.objects.create(payment=payment, instalment=inst, amount=inst.amount)
            Instalment.objects.filter(pk=inst.pk).update(paid_amount=F("amount"), invoice_status="invoiced",
                                                         invoice_number=f"No.{rng.randint(10**7, 10**8 - 1)}",
                                                         invoice_date=inst.due_date)
        made += 1
    return made
