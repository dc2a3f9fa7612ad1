"""Notes on the 360° timeline."""

from guanxi.customers.models import Account
from guanxi.customers.timeline import TimelineItem, register

from .models import Note


@register
def note_source(subject, user, limit, before):
    notes = Note.objects.filter(account=subject) if isinstance(subject, Account) else Note.objects.filter(
        contact=subject)
    if before is not None:
        notes = notes.filter(created_at__lt=before)
    for note in notes.select_related("author")[:limit]:
        yield TimelineItem(at=note.created_at, kind="note", title="", body=note.body, actor=note.author)
