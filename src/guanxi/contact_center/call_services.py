"""Use cases of the phone channel: recording a call event (from AMI, the webhook or the API), the screen pop sent to
the agent whose phone rings, the call's activity on the customer's timeline when it ends, click-to-call, and
the administrators' settings (PBX connections, agents' extensions).

Events are stored once each (CallEventLog is unique per call and key) and the call's state is folded again from
all of its events in time order, so duplicates change nothing and an event that arrives late lands where it
belongs. The hang-up writes the call's Activity once (through the activities services).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.activities import services as activity_services
from guanxi.activities.models import Activity, ActivityKind
from guanxi.core import access
from guanxi.core.models import User
from guanxi.customers.models import Account, Contact, ContactMethod, ContactMethodKind
from guanxi.quality.normalize import NormalizationError, normalize_phone

from . import call_events as ce
from .call_models import AgentPhone, Call, CallEventLog, CallStatus, Outcome, PbxConnection
from .chat_realtime import AGENTS, broadcast

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Guanxi-Signature"


# ------------------------------------------------------------------ matching numbers

def normalized_number(raw: str) -> str:
    """E.164 when the number is one (in the company's region), else the digits as given."""
    try:
        return normalize_phone(raw, settings.PHONE_REGION) if raw else ""
    except NormalizationError:
        return raw.strip()[:40]


def find_caller(number: str) -> tuple[Contact | None, Account | None]:
    """The contact with this E.164 number (any of their phones) and their company; else an account with it."""
    if not number.startswith("+"):
        return None, None
    method = (ContactMethod.objects.filter(kind=ContactMethodKind.PHONE, normalized=number)
              .select_related("contact__primary_account").order_by("-is_primary", "contact_id").first())
    if method is not None:
        return method.contact, method.contact.primary_account
    return None, Account.objects.filter(phone=number).order_by("id").first()


def agents_by_extension(extensions: set[str]) -> dict[str, User]:
    phones = AgentPhone.objects.filter(extension__in=[e for e in extensions if e]).select_related("user")
    return {p.extension: p.user for p in phones if p.user.is_active}


# ------------------------------------------------------------------ recording events

def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """The webhook's `X-Guanxi-Signature: sha256=<hex HMAC-SHA256 of the raw body>`."""
    if not secret or not header:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().removeprefix("sha256="), expected)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _event_data(event: ce.CallEvent) -> dict[str, str]:
    return {k: v for k, v in (("caller", event.caller), ("callee", event.callee), ("direction", event.direction),
                              ("queue", event.queue), ("recording_url", event.recording_url),
                              ("hint", event.hint)) if v}


def _call_row(source: PbxConnection, event: ce.CallEvent) -> Call:
    call = Call.objects.select_for_update().filter(source=source, call_id=event.call_id).first()
    if call is not None:
        return call
    try:
        with transaction.atomic():
            return Call.objects.create(source=source, call_id=event.call_id, started_at=event.at)
    except IntegrityError:  # another worker created it a moment ago
        return Call.objects.select_for_update().get(source=source, call_id=event.call_id)


@transaction.atomic
def record_event(source: PbxConnection, event: ce.CallEvent) -> tuple[Call, bool]:
    """Store the event (once) and bring the call up to date; returns (call, whether the event was new)."""
    call = _call_row(source, event)
    try:
        with transaction.atomic():
            CallEventLog.objects.create(call=call, key=event.key[:200], kind=event.kind, at=event.at,
                                        extension=event.extension, data=_event_data(event))
    except IntegrityError:
        return call, False
    was_ringing_at = call.popped_extension
    fold(call, list(call.events.all()))
    agent = _assign_agent(call)
    pop_to = None
    if (agent is not None and call.direction == ce.INBOUND and call.status != CallStatus.ENDED
            and event.kind in (ce.RINGING, ce.TRANSFERRED) and event.extension == call.extension
            and was_ringing_at != call.extension):
        call.popped_extension = call.extension
        pop_to = agent
    call.save()
    if call.status == CallStatus.ENDED:
        _write_activity(call, source)
    if pop_to is not None:
        payload = pop_payload(call, pop_to)
        transaction.on_commit(lambda: broadcast(AGENTS, payload))
    return call, True


_ORDER = {kind: n for n, kind in enumerate(ce.KINDS)}


def fold(call: Call, events: list[CallEventLog]) -> None:
    """The call's state from its events, in time order (a tie goes by the natural order of kinds)."""
    events.sort(key=lambda e: (e.at, _ORDER.get(e.kind, 9), e.pk or 0))
    call.started_at = events[0].at
    call.queued_at = call.answered_at = call.ended_at = None
    call.transfers, abandoned_at, hint, status = 0, None, "", CallStatus.RINGING
    for e in events:
        data = e.data or {}
        for name in ("caller", "callee", "queue", "recording_url"):
            if data.get(name):
                setattr(call, name, data[name])
        if data.get("direction"):
            call.direction = data["direction"]
        hint = data.get("hint") or hint
        if e.kind == ce.QUEUED:
            call.queued_at = call.queued_at or e.at
        elif e.kind == ce.ANSWERED:
            call.answered_at = call.answered_at or e.at
        elif e.kind == ce.TRANSFERRED:
            call.transfers += 1
        elif e.kind == ce.ABANDONED:
            abandoned_at = abandoned_at or e.at
        elif e.kind == ce.HUNGUP:
            call.ended_at = e.at
        if e.extension and e.kind != ce.HUNGUP and (e.kind != ce.RINGING or call.answered_at is None):
            call.extension = e.extension
    if call.ended_at is not None:
        status = CallStatus.ENDED
    elif call.answered_at is not None:
        status = CallStatus.ANSWERED
    elif call.queued_at is not None:
        status = CallStatus.QUEUED
    call.status, call.hint = status, hint[:60]
    if call.queued_at is not None and (call.answered_at or abandoned_at or call.ended_at):
        call.wait_seconds = max(0, int(((call.answered_at or abandoned_at or call.ended_at)
                                        - call.queued_at).total_seconds()))
    else:
        call.wait_seconds = None
    call.duration_seconds = (max(0, int((call.ended_at - call.answered_at).total_seconds()))
                             if call.answered_at and call.ended_at else None)
    call.outcome = _outcome(call, hint, abandoned_at) if status == CallStatus.ENDED else ""
    customer = call.caller if call.direction == ce.INBOUND else call.callee
    call.number = normalized_number(customer)


def _outcome(call: Call, hint: str, abandoned_at) -> str:
    if "voicemail" in hint.lower():
        return Outcome.VOICEMAIL
    if call.answered_at is not None:
        return Outcome.ANSWERED
    if abandoned_at is not None or call.queued_at is not None:
        return Outcome.ABANDONED
    return Outcome.MISSED


def _assign_agent(call: Call) -> User | None:
    """The user of the call's extension becomes its owner; the caller's contact and account are matched."""
    agent = agents_by_extension({call.extension}).get(call.extension) if call.extension else None
    if agent is not None and call.owner_id != agent.pk:
        call.owner, call.team_id = agent, agent.team_id
    if call.contact_id is None and call.account_id is None and call.number:
        call.contact, call.account = find_caller(call.number)
    return agent


# ------------------------------------------------------------------ the screen pop

def pop_payload(call: Call, agent: User) -> dict[str, Any]:
    """The pop-up for the agent: the caller's contact and company if the agent may see them, else the number with
    a link to create a contact (for users who may create one)."""
    contact = Contact.objects.visible_to(agent).filter(pk=call.contact_id).first() if call.contact_id else None
    account = Account.objects.visible_to(agent).filter(pk=call.account_id).first() if call.account_id else None
    if contact is not None and account is None and contact.primary_account_id:
        account = Account.objects.visible_to(agent).filter(pk=contact.primary_account_id).first()
    known = call.contact_id is not None or call.account_id is not None
    create = (f"{reverse('customers:contact_create')}?{urlencode({'phone': call.number})}"
              if not known and agent.can_edit and call.number else "")
    return {
        "type": "call", "agent": agent.pk, "call": call.pk, "number": call.number or call.caller,
        "queue": call.queue, "at": call.started_at.isoformat(),
        "contact": {"id": contact.pk, "name": contact.name,
                    "url": reverse("customers:contact_detail", args=[contact.pk])} if contact else None,
        "account": {"id": account.pk, "name": account.name,
                    "url": reverse("customers:account_detail", args=[account.pk])} if account else None,
        "create_url": create,
        "hidden": known and contact is None and account is None,  # a customer the agent may not see
    }


# ------------------------------------------------------------------ the call's activity

def activity_text(call: Call) -> tuple[str, str]:
    direction = _("Inbound call") if call.direction == ce.INBOUND else _("Outbound call")
    subject = f"{direction} · {call.get_outcome_display()}"
    lines = [f"{_('Number')}: {call.number or call.caller}"]
    if call.queue:
        lines.append(f"{_('Queue')}: {call.queue}")
    if call.wait_seconds is not None:
        lines.append(_("Waited %(n)s s") % {"n": call.wait_seconds})
    if call.transfers:
        lines.append(_("Transferred %(n)s times") % {"n": call.transfers})
    if call.recording_url:
        lines.append(f"{_('Recording')}: {call.recording_url}")
    return subject[:200], "\n".join(lines)


def _write_activity(call: Call, source: PbxConnection) -> None:
    """Once per call, on the contact's (or account's) timeline, as the agent (else the connection's user). A late
    event that changes the outcome updates the call's own activity."""
    if call.contact_id is None and call.account_id is None:
        return
    subject, body = activity_text(call)
    if call.activity_id:
        Activity.objects.filter(pk=call.activity_id).update(subject=subject, body=body,
                                                            duration_seconds=call.duration_seconds or 0)
        return
    data = {"kind": ActivityKind.CALL, "subject": subject, "body": body, "occurred_at": call.started_at,
            "direction": call.direction, "duration_seconds": call.duration_seconds or 0,
            "contact_id": call.contact_id or "", "account_id": call.account_id or ""}
    for actor in (call.owner, source.records_as):
        if actor is None or not actor.is_active or not actor.can_edit:
            continue
        try:
            with transaction.atomic():
                call.activity = activity_services.log_activity(actor, data)
        except (ValidationError, PermissionDenied):  # the agent may not see the customer: the connection's user
            continue
        call.save(update_fields=["activity"])
        return
    logger.warning("call %s: no user may log its activity (set the PBX's 'logs calls as' user)", call.pk)


# ------------------------------------------------------------------ click-to-call

def call_target(user: User) -> tuple[PbxConnection, str] | None:
    """The AMI connection and the user's extension, when click-to-call can ring their phone."""
    phone = AgentPhone.objects.filter(user=user).first()
    source = PbxConnection.objects.filter(kind="ami", active=True).exclude(ami_host="").order_by("id").first()
    return (source, phone.extension) if phone and source else None


def click_to_call(user: User, number: str) -> str:
    """Ask the PBX to ring the user's phone, then dial `number` (AMI Originate). Returns the E.164 number dialled;
    raises ValidationError (bad number, no extension) or ConnectionError (the PBX did not take it)."""
    from . import ami

    dialled = normalized_number((number or "")[:40])
    if not dialled or not any(c.isdigit() for c in dialled):
        raise ValidationError({"number": [_("Enter a valid phone number.")]})
    target = call_target(user)
    if target is None:
        raise ValidationError({"number": [_("Click-to-call needs a PBX connection and your extension.")]})
    source, extension = target
    ami.originate(source, extension, dialled)
    return dialled


# ------------------------------------------------------------------ settings (administrators)

def require_admin(user: User) -> None:
    access.require_admin(user, _("Only an administrator may set up the phone system."))


CONNECTION_TEXT = {"name": 100, "ami_host": 200, "ami_username": 100, "originate_context": 80,
                   "channel_technology": 20, "recording_base": 300}


@transaction.atomic
def save_connection(user: User, source: PbxConnection | None, values: dict[str, Any]) -> PbxConnection:
    """Create or change a PBX connection; a blank password or secret keeps the stored one (a new webhook
    connection gets a random secret)."""
    require_admin(user)
    errors: dict[str, list[str]] = {}
    source = source or PbxConnection()
    for name, limit in CONNECTION_TEXT.items():
        value = str(values.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = [_("At most %(n)s characters.") % {"n": limit}]
        setattr(source, name, value)
    if not source.name:
        errors["name"] = [_("This field is required.")]
    kind = values.get("kind") or "ami"
    if kind not in ("ami", "webhook"):
        errors["kind"] = [_("Choose Asterisk (AMI) or a cloud PBX (webhook).")]
    source.kind = kind
    port = str(values.get("ami_port") or "5038").strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        errors["ami_port"] = [_("A port is a number from 1 to 65535.")]
    else:
        source.ami_port = int(port)
    if kind == "ami" and not source.ami_host:
        errors["ami_host"] = [_("This field is required.")]
    if kind == "ami" and not source.ami_username:
        errors["ami_username"] = [_("This field is required.")]
    if source.recording_base and not source.recording_base.startswith(("https://", "http://")):
        errors["recording_base"] = [_("Enter an http(s) URL.")]
    records_as = values.get("records_as_id")
    source.records_as = User.objects.filter(pk=records_as, is_active=True).first() if str(records_as or "").isdigit() \
        else None
    if records_as and source.records_as is None:
        errors["records_as_id"] = [_("Choose an active user.")]
    source.active = bool(values.get("active"))
    if errors:
        raise ValidationError(errors)
    if values.get("ami_password"):
        source.ami_password = str(values["ami_password"])
    if values.get("secret"):
        source.secret = str(values["secret"])
    elif not source.secret_enc:
        from .call_models import new_secret

        source.secret = new_secret()
    source.save()
    return source


@transaction.atomic
def set_agent_phone(user: User, agent_id: Any, extension: Any) -> AgentPhone:
    """Give an agent an extension (replacing theirs); an extension belongs to one agent."""
    require_admin(user)
    errors: dict[str, list[str]] = {}
    agent = User.objects.filter(pk=agent_id, is_active=True).first() if str(agent_id or "").isdigit() else None
    if agent is None:
        errors["user_id"] = [_("Choose an active user.")]
    extension = str(extension or "").strip()
    if not extension.isdigit() or len(extension) > 20:
        errors["extension"] = [_("An extension is up to 20 digits.")]
    elif AgentPhone.objects.filter(extension=extension).exclude(user=agent).exists():
        errors["extension"] = [_("This extension belongs to another agent.")]
    if errors:
        raise ValidationError(errors)
    phone, _created = AgentPhone.objects.update_or_create(user=agent, defaults={"extension": extension})
    return phone


def remove_agent_phone(user: User, pk: int) -> None:
    require_admin(user)
    AgentPhone.objects.filter(pk=pk).delete()
