"""Leads from the one inbox: any conversation — a chat, an email or web-form ticket, a missed call — becomes a new
lead, or is linked to an existing lead the agent may see. Either way a `LeadConversation` row records it, so the
lead's page lists the conversation. What a conversation tells about the prospect (name, email, phone, company, a
description) is per source in `prospect()`; what the agent typed wins over it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import require_editor
from guanxi.core.models import AuditAction, User
from guanxi.core.records import fail, int_or_none, write_audit
from guanxi.customers.models import Contact, Source
from guanxi.sales import lead_services
from guanxi.sales.lead_models import Lead, LeadStatus
from guanxi.service.ticket_models import Ticket, TicketChannel

from . import chat_services as cs
from .call_models import Call
from .form_models import FormKind
from .lead_link_models import LeadConversation

LEAD_TICKET_CHANNELS = (TicketChannel.EMAIL, TicketChannel.WEB_FORM)


def _from_contact(contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {}
    data = {"name": contact.name, "email": contact.email or "", "phone": contact.phone or ""}
    account = contact.primary_account
    if account is not None:
        data["company"] = account.name
    return {k: v for k, v in data.items() if v}


def label(source: str, conversation: Any) -> str:
    """How the lead's page names the conversation (nothing its readers may not already see)."""
    if source == "ticket":
        return _("Ticket %(number)s") % {"number": conversation.number}  # no subject: the lead's readers may not see it
    if source == "call":
        return _("Call from %(number)s at %(at)s") % {
            "number": conversation.number, "at": f"{timezone.localtime(conversation.started_at):%Y-%m-%d %H:%M}"}
    return _("Web chat #%(id)s") % {"id": conversation.pk}


def can_make_lead(source: str, conversation: Any) -> bool:
    """Chats and calls always; tickets that came by email or by a web form that was not a lead form."""
    if source != "ticket":
        return True
    return conversation.channel in LEAD_TICKET_CHANNELS and not conversation.form_submissions.filter(
        form__kind=FormKind.LEAD).exists()


def prospect(source: str, conversation: Any) -> dict[str, Any]:
    """The lead's fields as the conversation tells them."""
    if source == "chat":
        data = _from_contact(conversation.contact)
        data.update(source=Source.WEBSITE, description=cs.transcript(conversation))
    elif source == "call":
        call: Call = conversation
        data = {**_from_contact(call.contact), "phone": call.number, "source": Source.OTHER,
                "description": _("%(outcome)s call from %(number)s at %(at)s.") % {
                    "outcome": call.get_outcome_display() or call.get_status_display(), "number": call.number,
                    "at": f"{timezone.localtime(call.started_at):%Y-%m-%d %H:%M}"}}
        if call.account is not None:
            data.setdefault("company", call.account.name)
    else:
        ticket: Ticket = conversation
        data = _from_contact(ticket.contact)
        if ticket.account is not None:
            data.setdefault("company", ticket.account.name)
        data.update(source=Source.WEB_FORM if ticket.channel == TicketChannel.WEB_FORM else Source.OTHER,
                    description=f"{ticket.subject}\n\n{ticket.description}".strip())
    return data


def _record(agent: User, lead: Lead, source: str, conversation: Any) -> LeadConversation:
    link, _created = LeadConversation.objects.get_or_create(
        lead=lead, source=source, object_id=conversation.pk,
        defaults={"label": label(source, conversation), "linked_by": agent})
    return link


@transaction.atomic
def lead_from(agent: User, source: str, conversation: Any, data: dict[str, Any] | None = None) -> Lead:
    """A new lead (assigned by the lead rules) from the conversation, with what the agent typed over it."""
    if not can_make_lead(source, conversation):
        fail({"lead": [_("This conversation cannot become a lead.")]})
    values = {**prospect(source, conversation), **{k: v for k, v in (data or {}).items() if v}}
    lead = lead_services.create_lead(agent, values, auto_assign=True)
    _record(agent, lead, source, conversation)
    return lead


def find_lead(agent: User, reference: Any, field: str = "lead") -> Lead:
    """An open lead the agent may see, by id; one they may not see is "no such lead", never a hint it exists."""
    pk = int_or_none(str(reference or "").strip()[:20])
    lead = Lead.objects.visible_to(agent).filter(pk=pk).first() if pk else None
    if lead is None:
        fail({field: [_("No such lead.")]})
    if lead.status == LeadStatus.CONVERTED:
        fail({field: [_("This lead is already converted: link the conversation to what it became.")]})
    return lead


@transaction.atomic
def link_to_lead(agent: User, source: str, conversation: Any, reference: Any) -> Lead:
    """The conversation is about an existing lead: the lead's page lists it, and its history says who linked it."""
    require_editor(agent)
    lead = find_lead(agent, reference)
    link = _record(agent, lead, source, conversation)
    write_audit(lead, agent, AuditAction.UPDATE, {"conversation": [None, link.label]})
    return lead

