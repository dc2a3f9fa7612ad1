"""Opportunities on their account's 360° timeline: created, moved, won, lost, changed."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, AuditEntry
from guanxi.core.ui import ChangeDescriber
from guanxi.customers.models import Account
from guanxi.customers.timeline import TimelineItem, register

from .models import Opportunity

_TITLES = {
    AuditAction.CREATE: lambda: _("Opportunity created"),
    AuditAction.UPDATE: lambda: _("Opportunity changed"),
    AuditAction.ASSIGN: lambda: _("Opportunity reassigned"),
    AuditAction.DELETE: lambda: _("Opportunity deleted"),
}


@register
def opportunity_source(subject, user, limit, before):
    """The audit entries of the account's opportunities that the user may see, described in words."""
    if not isinstance(subject, Account):
        return []
    opportunities = Opportunity.objects.visible_to(user).filter(account=subject).values("pk")
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity),
                                        object_id__in=opportunities).select_related("actor").order_by("-at", "-id")
    if before is not None:
        entries = entries.filter(at__lt=before)
    entries = list(entries[:limit])
    described = ChangeDescriber(Opportunity, user).describe([e.changes for e in entries])
    items = []
    for entry, rows in zip(entries, described, strict=True):
        title = _TITLES[entry.action]() if entry.action in _TITLES else entry.action
        body = "\n".join(f"{r.label}: {r.old} → {r.new}" if r.had_value else f"{r.label}: {r.new}" for r in rows)
        items.append(TimelineItem(at=entry.at, kind="opportunity", title=f"{title}: {entry.object_repr}",
                                  body=body, actor=entry.actor))
    return items
