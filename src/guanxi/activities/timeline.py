"""Notes, activities and tasks on the 360° timeline: one query per source per page, whatever the rows."""

from django.utils.translation import gettext as _

from guanxi.customers.models import Account
from guanxi.customers.timeline import TimelineItem, register

from .models import Activity, Note, Task


def _about(model, subject):
    return (
        model.objects.filter(account=subject) if isinstance(subject, Account) else model.objects.filter(contact=subject)
    )


@register
def note_source(subject, user, limit, before):
    notes = _about(Note, subject)
    if before is not None:
        notes = notes.filter(created_at__lt=before)
    for note in notes.select_related("author")[:limit]:
        yield TimelineItem(at=note.created_at, kind="note", title="", body=note.body, actor=note.author)


@register
def activity_source(subject, user, limit, before):
    rows = _about(Activity, subject)
    if before is not None:
        rows = rows.filter(occurred_at__lt=before)
    for a in rows.select_related("author").order_by("-occurred_at", "-id")[:limit]:
        title = a.get_kind_display() + (f": {a.subject}" if a.subject else "")
        extra = []
        if a.duration_seconds:
            extra.append(_("%(minutes)s min") % {"minutes": round(a.duration_seconds / 60)})
        if a.direction:
            extra.append(a.get_direction_display())
        if a.document_name:
            extra.append(a.document_name + (f" → {a.document_to}" if a.document_to else ""))
        body = "\n".join(filter(None, [" · ".join(extra), a.body]))
        yield TimelineItem(at=a.occurred_at, kind=f"activity-{a.kind}", title=title, body=body, actor=a.author)


@register
def task_source(subject, user, limit, before):
    rows = _about(Task, subject)
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    for t in rows.select_related("owner", "created_by").order_by("-created_at", "-id")[:limit]:
        title = _("%(kind)s for %(who)s: %(title)s") % {
            "kind": t.get_kind_display(),
            "who": t.owner or "—",
            "title": t.title,
        }
        yield TimelineItem(at=t.created_at, kind="task", title=title, body=t.get_status_display(), actor=t.created_by)
