"""The web chat on a contact's 360° timeline: the chats they had and the pages they browsed (grouped by visit
day, so a hundred page views are one entry, not a hundred). Two queries, whatever the number of rows."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.customers.models import Contact
from guanxi.customers.timeline import TimelineItem, register

from .chat_models import ChatConversation, PageView


@register
def chat_source(subject, user, limit, before):
    if not isinstance(subject, Contact):
        return []
    chats = ChatConversation.objects.visible_to(user).filter(contact=subject).select_related("owner")
    if before is not None:
        chats = chats.filter(created_at__lt=before)
    return [TimelineItem(at=c.created_at, kind="chat", title=_("Web chat #%(id)s") % {"id": c.pk},
                         body=c.get_status_display(), actor=c.owner)
            for c in chats.order_by("-created_at", "-id")[:limit]]


@register
def page_view_source(subject, user, limit, before):
    """Page views of the contact's visitors; the caller already may see the contact, so the browsing is theirs."""
    if not isinstance(subject, Contact):
        return []
    views = PageView.objects.filter(visitor__contact=subject)
    if before is not None:
        views = views.filter(at__lt=before)
    rows = list(views.order_by("-at", "-id").values("at", "url", "title")[: limit * 10])
    days: dict = {}
    for row in rows:  # newest first: one entry per day, at its latest view
        days.setdefault(row["at"].date(), []).append(row)
    items = []
    for pages in list(days.values())[:limit]:
        titles = list(dict.fromkeys(p["title"] or p["url"] for p in pages))
        items.append(TimelineItem(
            at=pages[0]["at"], kind="web",
            title=ngettext("Browsed %(n)s page on the website", "Browsed %(n)s pages on the website", len(pages))
            % {"n": len(pages)}, body=" · ".join(titles[:10])))
    return items
