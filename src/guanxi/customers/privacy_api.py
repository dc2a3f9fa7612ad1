"""Personal-data requests (PIPL / GDPR) through the API: export everything held about a contact, or erase it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from guanxi.core.api import WRITE_ONE, Id, actor

from .api import visible_contact
from .privacy import erase_person, export_person

router = Router(tags=["personal data"])


class EraseIn(Schema):
    reason: str = ""


class ErasedOut(Schema):
    id: int
    name: str
    version: int


@router.get("/contacts/{id}/personal-data", response={200: dict[str, Any], **WRITE_ONE})
def contact_personal_data(request: HttpRequest, id: Id):
    """Everything held about the person (fields, custom fields, phones, emails, addresses, tags, companies,
    timeline, audit trail, shares). Administrators and users who may edit the contact; the export is audited."""
    return export_person(actor(request), visible_contact(request, id))


@router.post("/contacts/{id}/erase", response={200: ErasedOut, **WRITE_ONE})
def erase_contact(request: HttpRequest, id: Id, payload: EraseIn):
    """Anonymise the person in place (administrators only): the record and its links stay, personal data goes.
    `reason` is required. Running it again changes nothing more."""
    contact = erase_person(actor(request), visible_contact(request, id), payload.reason)
    return {"id": contact.pk, "name": contact.name, "version": contact.version}
