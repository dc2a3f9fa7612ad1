"""Deliveries: record a shipment of part of an order's lines. The order and its lines are locked while the
quantities are checked and added, so two deliveries recorded at once can never ship more than was ordered;
the order moves to partially delivered, then delivered."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, User
from guanxi.core.records import clean_fields, fail, int_or_none, write_audit
from guanxi.quality.normalize import clean_text

from .catalog_services import clean_number
from .delivery_models import Delivery, DeliveryLine
from .quote_models import Order, OrderLine, OrderStatus
from .quote_services import next_number
from .services import _require_editor

HEADER_FIELDS = ["shipped_at", "carrier", "tracking_number", "note"]
MAX_LINES = 200


def require_order_editor(actor: User, order: Order) -> None:
    """The actor may change this order (its owner, their managers, administrators)."""
    _require_editor(actor)
    if not Order.objects.editable_by(actor).filter(pk=order.pk).exists():
        raise PermissionDenied(_("You may not change this order."))


def remaining(line: OrderLine) -> Decimal:
    return max(line.quantity - line.delivered_quantity, Decimal(0))


def _clean_header(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    data = {k: clean_text(v) if isinstance(v, str) and k != "shipped_at" else v for k, v in data.items()}
    if data.get("shipped_at") in (None, ""):
        data["shipped_at"] = timezone.localdate()
    return clean_fields(Delivery, data, HEADER_FIELDS, partial=False)


def _clean_lines(items: Any, lines: dict[int, OrderLine], errors: dict) -> list[tuple[OrderLine, Decimal]]:
    if not isinstance(items, list) or not items:
        errors["lines"] = [_("Deliver at least one line.")]
        return []
    if len(items) > MAX_LINES:
        errors["lines"] = [_("At most %(max)s lines.") % {"max": MAX_LINES}]
        return []
    out: list[tuple[OrderLine, Decimal]] = []
    seen: set[int] = set()
    for n, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        prefix = f"lines.{n}."
        line = lines.get(int_or_none(item.get("order_line_id")) or 0)
        if line is None:
            errors[prefix + "order_line_id"] = [_("No such line on this order.")]
            continue
        if line.pk in seen:
            errors[prefix + "order_line_id"] = [_("This line is listed twice.")]
            continue
        seen.add(line.pk)
        quantity = clean_number(item.get("quantity"), prefix + "quantity", errors, places=3)
        if quantity is None:
            continue
        if quantity <= 0:
            errors[prefix + "quantity"] = [_("Deliver more than 0.")]
        elif quantity > remaining(line):
            errors[prefix + "quantity"] = [
                _("Line %(n)s (%(line)s): only %(left)s left to deliver.")
                % {"n": line.position + 1, "line": line.description, "left": f"{remaining(line).normalize():f}"}]
        else:
            out.append((line, quantity))
    return out


def _order_status(lines: list[OrderLine]) -> str:
    if all(ln.delivered_quantity >= ln.quantity for ln in lines):
        return OrderStatus.DELIVERED
    if any(ln.delivered_quantity > 0 for ln in lines):
        return OrderStatus.PARTIAL
    return OrderStatus.CONFIRMED


@transaction.atomic
def record_delivery(actor: User, order: Order, data: dict[str, Any]) -> Delivery:
    """A shipment of `lines` ([{order_line_id, quantity}]) with its date, carrier and tracking number."""
    require_order_editor(actor, order)
    order = Order.objects.select_for_update().get(pk=order.pk)
    lines = {ln.pk: ln for ln in OrderLine.objects.select_for_update().filter(order=order).order_by("position", "pk")}
    if order.status == OrderStatus.CANCELLED:
        fail({"status": [_("A cancelled order is not delivered.")]})
    cleaned, errors = _clean_header(data)
    shipped = _clean_lines(data.get("lines"), lines, errors)
    fail(errors)
    delivery = Delivery.objects.create(order=order, number=next_number("DN"), created_by=actor, **cleaned)
    DeliveryLine.objects.bulk_create([DeliveryLine(delivery=delivery, order_line=ln, quantity=q) for ln, q in shipped])
    for line, quantity in shipped:
        OrderLine.objects.filter(pk=line.pk).update(delivered_quantity=F("delivered_quantity") + quantity)
        line.delivered_quantity += quantity
    before = order.status
    order.status = _order_status(list(lines.values()))
    order.save(update_fields=["status", "updated_at"])
    changes = {"delivery": [None, delivery.number]}
    if before != order.status:
        changes["status"] = [before, order.status]
    write_audit(order, actor, AuditAction.UPDATE, changes)
    return delivery
