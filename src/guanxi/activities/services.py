"""Activity use cases. This issue: notes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.customers.models import Account, Contact

from .models import Note


@transaction.atomic
def add_note(actor: User, subject: Account | Contact, body: str) -> Note:
    if not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ValidationError({"body": [_("Write the note first.")]})
    if len(body) > 20000:
        raise ValidationError({"body": [_("At most 20,000 characters.")]})
    link = {"account": subject} if isinstance(subject, Account) else {"contact": subject}
    return Note.objects.create(author=actor, body=body, **link)
