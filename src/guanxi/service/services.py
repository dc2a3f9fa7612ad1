"""Service desk use cases: create (routed at once), reply, note, change status, assign, edit, merge, pick up,
set availability. One function per user action, each in one transaction, every change audited.

Bad input raises ValidationError keyed by field and changes nothing; a stale `version` raises EditConflict.
The caller has already checked that the actor may see the ticket (`Ticket.objects.visible_to`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.deferred import save_later
from guanxi.core.models import AuditAction, User
from guanxi.core.notifications import notify
from guanxi.core.records import (
    check_version,
    clean_fields,
    creation_changes,
    diff,
    fail,
    int_or_none,
    snapshot,
    write_audit,
)
from guanxi.core.services import assignable_users
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import validation_messages  # noqa: F401 (views)
from guanxi.quality.normalize import clean_text
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Order

from . import dispatch
from .attachments import check_files, store_files
from .csat_services import survey_on_commit
from .models import AgentProfile, Availability, QuestionGroup, Queue
from .signals import reply_added, ticket_activity, ticket_moved
from .ticket_models import (
    PAUSED,
    TRANSITIONS,
    EventKind,
    MessageKind,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)

TICKET_FIELDS = ["subject", "description", "priority", "language"]
AUDITED = TICKET_FIELDS + [
    "status", "question_group_id", "queue_id", "account_id", "contact_id", "order_id", "product_id", "owner_id",
    "first_response_at", "first_response_due_at", "resolution_due_at", "resolved_at", "closed_at", "merged_into_id",
]
MOVES = ("status", "owner_id", "queue_id")  # changes that move a ticket in the agents' inboxes (ticket_moved)
RELATED = ("queue__calendar", "queue__senior_queue", "question_group", "account", "sla_policy__calendar")


def warning_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SERVICE_SLA_WARNING_MINUTES)


def _require_editor(actor: User) -> None:
    if not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related(*RELATED).get(pk=ticket.pk)


def _save(ticket: Ticket, actor: User | None, before: dict[str, Any], action: str = AuditAction.UPDATE) -> None:
    """Save with the next version and audit what changed."""
    ticket.version = F("version") + 1
    ticket.save()
    ticket.refresh_from_db(fields=["version"])
    changes = diff(before, snapshot(ticket, AUDITED))
    if changes:
        write_audit(ticket, actor, action, changes)
    moved(ticket, before, changes)


def moved(ticket: Ticket, before: dict[str, Any], changes: dict[str, Any]) -> None:
    """Tell the channels (the live inbox) that the ticket changed status, assignee or queue."""
    if any(key in changes for key in MOVES):
        ticket_moved.send(sender=Ticket, ticket=ticket, before={key: before.get(key) for key in MOVES})


def _event(ticket: Ticket, kind: str, actor: User | None, **data: Any) -> TicketEvent:
    return save_later(TicketEvent(ticket=ticket, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                                  data=data))


def _pick_related(model, actor: User, value: Any, errors: dict, field: str):
    pk = int_or_none(value)
    obj = model.objects.visible_to(actor).filter(pk=pk).first() if pk is not None else None
    if obj is None:
        errors[field] = [_("Choose one you can see.")]
    return obj


def _clean(actor: User, data: dict[str, Any], ticket: Ticket | None) -> dict[str, Any]:
    partial = ticket is not None
    data = {k: clean_text(v) if k == "subject" and isinstance(v, str) else v for k, v in data.items()}
    # The channel is set when a ticket is made (an integrator may log a phone call's ticket), never changed.
    cleaned, errors = clean_fields(Ticket, data, TICKET_FIELDS + ([] if partial else ["channel"]), partial=partial)
    for key, model in (("account_id", Account), ("contact_id", Contact), ("order_id", Order)):
        if data.get(key) not in (None, ""):
            cleaned[key[:-3]] = _pick_related(model, actor, data[key], errors, key)
        elif key in data:
            cleaned[key[:-3]] = None
    for key, model, message in (("question_group_id", QuestionGroup, _("No such question group.")),
                                ("product_id", Product, _("No such product, or it is no longer sold."))):
        if data.get(key) not in (None, ""):
            found = model.objects.filter(pk=int_or_none(data[key]), active=True).first()
            if found is None:
                errors[key] = [message]
            cleaned[key[:-3]] = found
        elif key in data:
            cleaned[key[:-3]] = None
    if data.get("queue_id") not in (None, ""):
        queue = Queue.objects.filter(pk=int_or_none(data["queue_id"])).first()
        if queue is None:
            errors["queue_id"] = [_("No such queue.")]
        cleaned["queue"] = queue
    fail(errors)
    contact, account = cleaned.get("contact"), cleaned.get("account", ticket.account if ticket else None)
    if contact is not None and account is not None and not contact.accounts.filter(pk=account.pk).exists():
        fail({"contact_id": [_("This contact does not belong to the account.")]})
    # No account given (a new ticket, or an edit that leaves it alone): the contact's or the order's.
    fill = ticket is None or "account" not in cleaned
    if contact is not None and account is None and fill:
        account = cleaned["account"] = contact.primary_account or contact.accounts.order_by("pk").first()
    order = cleaned["order"] if "order" in cleaned else ticket.order if ticket and ticket.order_id else None
    if order is not None and account is None and fill:
        cleaned["account"] = order.account  # a ticket about an order is the ordering customer's
    elif order is not None and order.account_id != getattr(account, "pk", None):
        fail({"order_id": [_("This order belongs to another account than the ticket's.")]})
    return cleaned


@transaction.atomic
def create_ticket(actor: User, data: dict[str, Any], now: dt.datetime | None = None) -> Ticket:
    """A new ticket with its SLA due times, routed at once to an agent of its question group's queue."""
    _require_editor(actor)
    return open_ticket(actor, _clean(actor, data, None), now)


def open_ticket(actor: User | None, cleaned: dict[str, Any], now: dt.datetime | None = None) -> Ticket:
    """Save, number, start the SLA of and route a ticket from fields already checked (by create_ticket, or a
    channel such as email acting for a customer with `actor` None). Call inside a transaction."""
    return file_ticket(Ticket(requester=actor, **cleaned), actor, now or timezone.now())


def _reserved_id() -> int | None:
    """PostgreSQL, in a transaction: the new ticket's id taken from its sequence first, so that the ticket is
    inserted once, number and routing included, instead of inserted and then updated (an update rewrites every
    index entry of the row, the trigram one too). SQLite has no sequence (and no round trips): None."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        return cursor.fetchone()[0]


def file_ticket(ticket: Ticket, actor: User | None, now: dt.datetime) -> Ticket:
    """Save a new, cleaned ticket: its number, SLA due times, the created event, routing and the audit entry.
    Shared by staff (create_ticket), customers (customer_services.submit_ticket) and channels (open_ticket);
    runs in their transaction."""
    if ticket.queue_id is None:
        group_queue = ticket.question_group.routing_queue() if ticket.question_group_id else None
        ticket.queue = group_queue or Queue.objects.filter(is_senior=False).order_by("pk").first()
    reserved = ticket.pk is None and (pk := _reserved_id()) is not None
    if reserved:
        ticket.pk = pk
    else:  # the number is made from the id
        ticket.save()
    ticket.number = f"T{ticket.pk:06d}"
    dispatch.start_sla(ticket, now)
    _event(ticket, EventKind.CREATED, actor)  # may point at a row inserted below: PostgreSQL checks at commit
    dispatch.route_ticket(ticket, now, actor)
    ticket.save(force_insert=reserved)
    write_audit(ticket, actor, AuditAction.CREATE,
                creation_changes(ticket, AUDITED))
    ticket_activity.send(sender=Ticket, ticket=ticket, created=True)
    return ticket


@transaction.atomic
def update_ticket(actor: User, ticket: Ticket, data: dict[str, Any], version: Any,
                  now: dt.datetime | None = None) -> Ticket:
    """Edit subject, description, priority, language, question group, account, contact, order or product. A new
    priority or account on a ticket still being worked on recomputes its SLA due times under the matching
    policy."""
    _require_editor(actor)
    current = _locked(ticket)
    check_version(current, version, data)
    cleaned = _clean(actor, {k: v for k, v in data.items() if k != "queue_id"}, current)
    before = snapshot(current, AUDITED)
    old_policy, old_due = current.sla_policy_id, (current.first_response_due_at, current.resolution_due_at)
    for key, value in cleaned.items():
        setattr(current, key, value)
    if current.is_active and (current.priority != before.get("priority")
                              or current.account_id != ticket.account_id):
        dispatch.recompute_sla(current, now or timezone.now(), warning_window())
        new_due = (current.first_response_due_at, current.resolution_due_at)
        if (current.sla_policy_id, new_due) != (old_policy, old_due):
            _event(current, EventKind.SLA, actor, policy=current.sla_policy_id,
                   **{k: v.isoformat() if v else None
                      for k, v in zip(("first_response_due_at", "resolution_due_at"), new_due, strict=True)})
    _save(current, actor, before)
    return current


def _picked_up(ticket: Ticket, actor: User, now: dt.datetime) -> None:
    if ticket.owner_id == actor.pk and ticket.picked_up_at is None:
        ticket.picked_up_at = now


@transaction.atomic
def pick_up(actor: User, ticket: Ticket, now: dt.datetime | None = None) -> None:
    """The assignee opened the ticket: it will not be re-routed for lack of pick-up."""
    if ticket.owner_id == actor.pk and ticket.picked_up_at is None:
        Ticket.objects.filter(pk=ticket.pk, picked_up_at__isnull=True).update(picked_up_at=now or timezone.now())


@transaction.atomic  # _locked's select_for_update needs one (PostgreSQL refuses it outside)
def _add_message(actor: User, ticket: Ticket, body: Any, kind: str, now: dt.datetime | None,
                 files: Sequence[UploadedFile]) -> TicketMessage:
    _require_editor(actor)
    now = now or timezone.now()
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        fail({"body": [_("This field is required.")]})
    if len(text) > 50_000:
        fail({"body": [_("At most %(max)s characters.") % {"max": 50_000}]})
    check_files(files)
    current = _locked(ticket)
    if current.status == TicketStatus.CLOSED and kind == MessageKind.REPLY:
        fail({"body": [_("This ticket is closed: reopen it or open a new one.")]})
    before = snapshot(current, AUDITED)
    message = TicketMessage.objects.create(ticket=current, kind=kind, author=actor, body=text)
    store_files(current, message, files)
    if kind == MessageKind.REPLY:
        reply_added.send(sender=TicketMessage, ticket=current, message=message, actor=actor)
    _picked_up(current, actor, now)
    if kind == MessageKind.REPLY:
        if current.first_response_at is None:
            current.first_response_at = now
        if current.status == TicketStatus.NEW:
            current.status = TicketStatus.OPEN
            _event(current, EventKind.STATUS, actor, old=TicketStatus.NEW, new=TicketStatus.OPEN)
    _save(current, actor, before)
    ticket.version = current.version
    return message


def reply(actor: User, ticket: Ticket, body: Any, now: dt.datetime | None = None, *,
          files: Sequence[UploadedFile] = ()) -> TicketMessage:
    """A public reply to the customer, with files the customer will see; the first one stamps the first response
    (and opens a new ticket)."""
    return _add_message(actor, ticket, body, MessageKind.REPLY, now, files)


def add_note(actor: User, ticket: Ticket, body: Any, now: dt.datetime | None = None, *,
             files: Sequence[UploadedFile] = ()) -> TicketMessage:
    """An internal note, never shown to the customer, nor are its files."""
    return _add_message(actor, ticket, body, MessageKind.NOTE, now, files)


@transaction.atomic
def customer_replied(ticket: Ticket, body: str, now: dt.datetime | None = None, field: str = "ticket"
                     ) -> TicketMessage:
    """The customer wrote again (by email or in the portal): a public message with no author; a ticket waiting on
    them or resolved is open again (its SLA clock runs on) and the assignee is told. A closed ticket is refused
    under `field`: open a new one instead. The message's `ticket` is the locked, updated row."""
    now = now or timezone.now()
    current = _locked(ticket)
    if current.status == TicketStatus.CLOSED:
        fail({field: [_("This ticket is closed and takes no more replies; please open a new ticket.")]})
    message = TicketMessage.objects.create(ticket=current, kind=MessageKind.REPLY, author=None, body=body)
    if current.status in PAUSED:
        before, old = snapshot(current, AUDITED), current.status
        current.status = TicketStatus.OPEN
        current.resolved_at = None
        dispatch.resume_sla(current, now, warning_window())
        _event(current, EventKind.STATUS, None, old=old, new=TicketStatus.OPEN, by_customer=True)
        _save(current, None, before)
    else:  # the inbox orders by the last activity
        Ticket.objects.filter(pk=current.pk).update(updated_at=now)
    ticket_activity.send(sender=Ticket, ticket=current, created=False)
    if current.owner is not None:
        with translation.override(current.owner.language or settings.LANGUAGE_CODE):
            notify(current.owner, _("The customer wrote on ticket %(number)s.") % {"number": current.number},
                   reverse("service:ticket_detail", args=[current.pk]), f"service.customer_reply.{message.pk}")
    return message


@transaction.atomic
def answered_automatically(ticket: Ticket, note: str, now: dt.datetime | None = None) -> TicketMessage:
    """A channel answered the customer by itself (email from the knowledge base): an internal note says what was
    sent, and a new or open ticket waits on the customer (SLA paused) until they write again."""
    now = now or timezone.now()
    current = _locked(ticket)
    message = TicketMessage.objects.create(ticket=current, kind=MessageKind.NOTE, author=None, body=note)
    if current.status in (TicketStatus.NEW, TicketStatus.OPEN):
        before, old = snapshot(current, AUDITED), current.status
        current.status = TicketStatus.WAITING
        dispatch.pause_sla(current, now)
        _event(current, EventKind.STATUS, None, old=old, new=TicketStatus.WAITING, automatic=True)
        _save(current, None, before)
    return message


@transaction.atomic
def change_status(actor: User, ticket: Ticket, status: Any, version: Any,
                  now: dt.datetime | None = None) -> Ticket:
    """Move along the workflow (see TRANSITIONS). Waiting on the customer or resolved pauses the SLA clock;
    leaving them moves the due times on by the paused business time."""
    _require_editor(actor)
    now = now or timezone.now()
    current = _locked(ticket)
    check_version(current, version)
    if status not in TicketStatus.values:
        fail({"status": [_("Unknown status.")]})
    if status not in TRANSITIONS[current.status]:
        fail({"status": [_("A ticket cannot go from “%(old)s” to “%(new)s”.")
                         % {"old": current.get_status_display(), "new": TicketStatus(status).label}]})
    before = snapshot(current, AUDITED)
    old = current.status
    current.status = status
    if status in PAUSED:
        dispatch.pause_sla(current, now)
    elif old in PAUSED:
        dispatch.resume_sla(current, now, warning_window())
    current.resolved_at = now if status == TicketStatus.RESOLVED else (current.resolved_at if status ==
                                                                        TicketStatus.CLOSED else None)
    if status == TicketStatus.CLOSED:
        current.closed_at = now
    _picked_up(current, actor, now)
    _event(current, EventKind.STATUS, actor, old=old, new=status)
    _save(current, actor, before)
    if status == TicketStatus.RESOLVED:
        survey_on_commit(current)  # e-mailed once the resolution is committed
    return current


@transaction.atomic
def assign(actor: User, ticket: Ticket, assignee_id: Any, version: Any, now: dt.datetime | None = None) -> Ticket:
    """Give the ticket to someone (or take it back to the queue with None). The new assignee must be someone the
    actor may hand records to (themselves, their team for a manager) and below their capacity."""
    _require_editor(actor)
    now = now or timezone.now()
    current = _locked(ticket)
    check_version(current, version)
    if current.status == TicketStatus.CLOSED:
        fail({"assignee_id": [_("This ticket is closed.")]})
    user = None
    if assignee_id not in (None, ""):
        pk = int_or_none(assignee_id)
        user = assignable_users(actor).filter(pk=pk).first() if pk else None
        if user is None:
            fail({"assignee_id": [_("You may not give tickets to this user.")]})
        if user.pk != current.owner_id and not dispatch.has_room(user):
            fail({"assignee_id": [_("This agent is at capacity.")]})
    before = snapshot(current, AUDITED)
    current.set_owner(user)
    current.assigned_at = now if user else None
    current.picked_up_at = now if user is not None and user.pk == actor.pk else None
    _event(current, EventKind.ASSIGNED, actor, agent=user.pk if user else None, agent_name=str(user or ""))
    _save(current, actor, before, AuditAction.ASSIGN)
    return current


@transaction.atomic
def merge(actor: User, source: Ticket, target: Ticket) -> Ticket:
    """Move `source`'s conversation into `target`; `source` is closed with a link to `target`."""
    _require_editor(actor)
    if source.pk == target.pk:
        fail({"target_id": [_("A ticket cannot be merged into itself.")]})
    first, second = sorted([source.pk, target.pk])
    locked = {t.pk: t for t in Ticket.objects.select_for_update(of=("self",)).select_related(*RELATED)
              .filter(pk__in=[first, second]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.status == TicketStatus.CLOSED or target.status == TicketStatus.CLOSED:
        fail({"target_id": [_("Closed tickets cannot be merged.")]})
    moved = TicketMessage.objects.filter(ticket=source).update(ticket=target)
    if source.description:
        TicketMessage.objects.create(ticket=target, kind=MessageKind.NOTE, author=actor,
                                     body=f"[{source.number}] {source.subject}\n\n{source.description}")
    before = snapshot(source, AUDITED)
    source.status = TicketStatus.CLOSED
    source.closed_at = timezone.now()
    source.merged_into = target
    _event(source, EventKind.MERGED, actor, into=target.pk, number=target.number)
    _event(target, EventKind.MERGED, actor, source=source.pk, number=source.number, messages=moved)
    _save(source, actor, before, AuditAction.MERGE)
    before = snapshot(target, AUDITED)
    _save(target, actor, before)
    write_audit(target, actor, AuditAction.MERGE, {"merged_from": [None, source.pk]})
    return target


@transaction.atomic
def split(actor: User, ticket: Ticket, message_ids: Any, subject: Any, now: dt.datetime | None = None) -> Ticket:
    """A new ticket (same customer, question group and queue; routed, with its own SLA from now) takes the chosen
    messages of `ticket`, which a second question asked in the same conversation; both logs link the other."""
    _require_editor(actor)
    now = now or timezone.now()
    source = _locked(ticket)
    if source.status == TicketStatus.CLOSED:
        fail({"message_ids": [_("A closed ticket cannot be split.")]})
    ids = {int_or_none(i) for i in message_ids} if isinstance(message_ids, list | tuple) else set()
    ids.discard(None)
    chosen = TicketMessage.objects.filter(ticket=source, pk__in=ids)
    errors: dict[str, list[str]] = {}
    if not ids or chosen.count() != len(ids):
        errors["message_ids"] = [_("Choose one or more messages of this ticket.")]
    elif chosen.count() == source.messages.count() and not source.description:
        errors["message_ids"] = [_("Leave at least one message on this ticket.")]
    subject = clean_text(subject) if isinstance(subject, str) else ""
    if not subject:
        errors["subject"] = [_("Give the new ticket a subject.")]
    elif len(subject) > 200:
        errors["subject"] = [_("At most %(max)s characters.") % {"max": 200}]
    fail(errors)
    # The same customer as the ticket the agent works on, even one whose account the agent may not open.
    new = file_ticket(Ticket(requester=source.requester, subject=subject, priority=source.priority,
                             language=source.language, question_group=source.question_group, queue=source.queue,
                             account=source.account, contact=source.contact, order=source.order,
                             product=source.product), actor, now)
    moved = chosen.update(ticket=new)
    _event(new, EventKind.SPLIT, actor, source=source.pk, number=source.number, messages=moved)
    _event(source, EventKind.SPLIT, actor, into=new.pk, number=new.number, messages=moved)
    write_audit(source, actor, AuditAction.UPDATE, {"split_into": [None, new.pk]})
    return new


@transaction.atomic
def set_availability(actor: User, availability: Any) -> AgentProfile:
    """An agent goes online, away or off (their own profile; created on first use)."""
    if availability not in Availability.values:
        fail({"availability": [_("Choose online, away or off.")]})
    profile, _created = AgentProfile.objects.get_or_create(user=actor)
    profile.availability = availability
    profile.save(update_fields=["availability"])
    return profile
