"""Canned replies over REST: list the ones you may use, write one, and fill one in for a ticket."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from guanxi.core.api import READ_ONE, WRITE, actor

from . import canned_services
from .ticket_models import Ticket

router = Router()
TAG = ["service"]


class CannedOut(Schema):
    id: int
    title: str
    body: str
    question_group_id: int | None
    shared: bool
    uses: int

    @staticmethod
    def resolve_shared(obj) -> bool:
        return obj.owner_id is None


class CannedIn(Schema):
    title: str = Field(max_length=500)
    body: str = Field(max_length=20000, description="Placeholders: {customer} {contact} {account} {ticket} "
                      "{subject} {agent}")
    question_group_id: int | None = None
    shared: bool = Field(False, description="For everyone (service managers and administrators only).")


class FilledOut(Schema):
    text: str


@router.get("/canned-replies", response=list[CannedOut], tags=TAG)
def list_canned(request: HttpRequest):
    """The shared canned replies and your own, by title."""
    return list(canned_services.usable_by(actor(request)))


@router.post("/canned-replies", response={201: CannedOut, **WRITE}, tags=TAG)
def create_canned(request: HttpRequest, payload: CannedIn):
    return Status(201, canned_services.save_canned(actor(request), payload.dict()))


@router.get("/tickets/{ticket_id}/canned-replies/{reply_id}", response={200: FilledOut, **READ_ONE}, tags=TAG)
def fill_canned(request: HttpRequest, ticket_id: int, reply_id: int):
    """The reply's text with the ticket's values in its placeholders."""
    user = actor(request)
    ticket = get_object_or_404(Ticket.objects.visible_to(user).select_related("contact", "account"), pk=ticket_id)
    reply = get_object_or_404(canned_services.usable_by(user), pk=reply_id)
    return {"text": canned_services.fill_for(user, ticket, reply)}
