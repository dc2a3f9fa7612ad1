"""Sales records on their account's 360° timeline: opportunities (created, moved, won, lost, changed), quotes
(created, sent, accepted …) and orders, each from its audit entries, described in words."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, AuditEntry
from guanxi.core.ui import ChangeDescriber
from guanxi.customers.models import Account
from guanxi.customers.timeline import TimelineItem, register

from .models import Opportunity, Order, Quote

_TITLES = {
    AuditAction.CREATE: lambda: _("Opportunity created"),
    AuditAction.UPDATE: lambda: _("Opportunity changed"),
    AuditAction.ASSIGN: lambda: _("Opportunity reassigned"),
    AuditAction.DELETE: lambda: _("Opportunity deleted"),
}
_QUOTE_TITLES = {
    AuditAction.CREATE: lambda: _("Quote created"),
    AuditAction.UPDATE: lambda: _("Quote changed"),
    AuditAction.DELETE: lambda: _("Quote deleted"),
    AuditAction.REQUEST: lambda: _("Quote discount approval requested"),
    AuditAction.APPROVE: lambda: _("Quote discount approved"),
    AuditAction.REJECT: lambda: _("Quote discount refused"),
}
_QUOTE_STATUS_TITLES = {
    "sent": lambda: _("Quote sent"), "accepted": lambda: _("Quote accepted"),
    "rejected": lambda: _("Quote declined"), "expired": lambda: _("Quote expired"),
}


def _quote_title(entry: AuditEntry) -> str | None:
    status = (entry.changes.get("status") or [None, None])[1]
    return _QUOTE_STATUS_TITLES[status]() if status in _QUOTE_STATUS_TITLES else None


def audit_source(model: type[models.Model], kind: str, titles: dict, title_of: Callable | None = None) -> Callable:
    """A timeline source: the audit entries of the account's `model` records that the user may see."""

    def source(subject, user, limit, before):
        if not isinstance(subject, Account):
            return []
        records = model.objects.visible_to(user).filter(account=subject).values("pk")
        entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                            object_id__in=records).select_related("actor").order_by("-at", "-id")
        if before is not None:
            entries = entries.filter(at__lt=before)
        entries = list(entries[:limit])
        described = ChangeDescriber(model, user).describe([e.changes for e in entries])
        items = []
        for entry, rows in zip(entries, described, strict=True):
            title = (title_of(entry) if title_of else None) or (
                titles[entry.action]() if entry.action in titles else entry.action)
            body = "\n".join(f"{r.label}: {r.old} → {r.new}" if r.had_value else f"{r.label}: {r.new}" for r in rows)
            items.append(TimelineItem(at=entry.at, kind=kind, title=f"{title}: {entry.object_repr}", body=body,
                                      actor=entry.actor))
        return items

    source.__name__ = f"{kind}_source"
    return source


opportunity_source = register(audit_source(Opportunity, "opportunity", _TITLES))
quote_source = register(audit_source(Quote, "quote", _QUOTE_TITLES, _quote_title))
order_source = register(audit_source(Order, "order", {AuditAction.CREATE: lambda: _("Order created")}))
