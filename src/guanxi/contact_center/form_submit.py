"""A person submits a web form: the checks that keep robots and floods out (rate limits per IP and per form, a
honeypot field, a signed timestamp proving the form was shown a few seconds before), the answers checked by
field type, then — in one transaction — the FormSubmission row and the records it creates: a lead (source "web
form"), or the contact (found by email or phone, else new) and a ticket from the web-form channel, routed like
any ticket. A ticked consent box sets the contact's marketing consent. An acknowledgement email, when the form
has one, is queued in the same transaction and sent after commit (retried by the sweep).

Answers that fail the record's own checks (a custom field's type, a lead without a way to reach them) are a
ValidationError keyed by the form's field keys, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.records import fail
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, Source
from guanxi.quality.normalize import NormalizationError, clean_text, normalize_email, normalize_phone
from guanxi.sales import lead_services
from guanxi.service import services as service_services
from guanxi.service.ticket_models import TicketChannel

from . import email_outbound, mail
from . import visitor_services as vs
from .email_models import OutboundKind
from .form_models import FieldKind, FormKind, FormSubmission, WebForm, pick

HONEYPOT = "website"
TOKEN = "_token"
CONSENT = "consent"
TOKEN_SALT = "guanxi.contact_center.webform"
TOKEN_MAX_AGE = 24 * 3600
LIMITS = {FieldKind.TEXTAREA: 5000}
TEXT_LIMIT = 500
YES = ("1", "true", "yes", "on", "是")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Throttled(Exception):
    """Too many submissions from this address or to this form: refuse with 429."""


@dataclass
class Meta:
    ip: str | None = None
    user_agent: str = ""
    origin: str = ""
    language: str = ""


def token(form: WebForm, now: float | None = None) -> str:
    """The signed time the form was shown, sent back with the answers."""
    return signing.dumps([form.pk, int(now if now is not None else time.time())], salt=TOKEN_SALT, compress=True)


def _token_age(form: WebForm, value: Any) -> float | None:
    """Seconds since the token was made, or None when it is not this form's or older than a day."""
    try:
        pk, issued = signing.loads(value, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return time.time() - issued if pk == form.pk else None


def field_label(field: dict) -> str:
    return pick(field["label_zh"], field["label_en"])


def _answer(field: dict, value: Any) -> Any:
    """One answer cleaned by its type (None when empty), or ValueError with the message."""
    kind = field["type"]
    if kind == FieldKind.YES_NO:
        if isinstance(value, bool):
            return value
        return str(value or "").strip().lower() in YES
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(_("Expected text."))
    text = str(value).strip()
    if "\x00" in text or text.encode("utf-8", "replace").decode() != text:  # PostgreSQL refuses both
        raise ValueError(_("Text may not contain NUL characters or broken Unicode."))
    if len(text) > LIMITS.get(kind, TEXT_LIMIT):
        raise ValueError(_("At most %(max)s characters.") % {"max": LIMITS.get(kind, TEXT_LIMIT)})
    try:
        if kind == FieldKind.EMAIL:
            return normalize_email(text)
        if kind == FieldKind.PHONE:
            return normalize_phone(text, settings.PHONE_REGION)
    except NormalizationError:
        raise ValueError(_("Enter a valid email address.") if kind == FieldKind.EMAIL
                         else _("Enter a valid phone number."))
    if kind == FieldKind.CHOICE:
        if text not in field["choices"]:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(field["choices"])})
        return text
    if kind == FieldKind.NUMBER:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError(_("Enter a number."))
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError(_("Enter a number."))
        return str(number)
    if kind == FieldKind.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
    return text if kind == FieldKind.TEXTAREA else clean_text(text)


def clean_answers(form: WebForm, data: dict[str, Any]) -> dict[str, Any]:
    """{field key: cleaned value} for the answers given; ValidationError keyed by field key."""
    errors: dict[str, list[str]] = {}
    answers: dict[str, Any] = {}
    for field in form.fields:
        try:
            value = _answer(field, data.get(field["key"]))
        except ValueError as exc:
            errors[field["key"]] = [str(exc)]
            continue
        if field["required"] and value in (None, False):
            errors[field["key"]] = [_("This field is required.")]
        elif value is not None:
            answers[field["key"]] = value
    fail(errors)
    return answers


def _split(form: WebForm, answers: dict[str, Any]) -> tuple[dict[str, dict], list[str], dict[str, str]]:
    """(values by record — {"lead": {...}, "contact": {...}, "ticket": {...}} with custom fields under
    "custom" —, "Label: answer" lines of the fields that fill nothing, record error key → field key)."""
    values: dict[str, dict] = {"lead": {}, "contact": {}, "ticket": {}}
    extra: list[str] = []
    keys: dict[str, str] = {}
    for field in form.fields:
        if field["key"] not in answers:
            continue
        value, target = answers[field["key"]], field["target"]
        if not target:
            shown = (_("Yes") if value else _("No")) if isinstance(value, bool) else value
            extra.append(f"{field_label(field)}: {shown}")
            continue
        record, _dot, name = target.partition(".")
        if name.startswith("custom."):
            values[record].setdefault("custom", {})[name[7:]] = value
        else:
            values[record][name] = value
        keys[f"{record}:{name}"] = field["key"]
    return values, extra, keys


def _refile(exc: ValidationError, record: str, keys: dict[str, str]) -> ValidationError:
    """A record's ValidationError keyed by the form's fields (the rest under __all__)."""
    aliases = {"emails": "email", "phones": "phone"}
    errors: dict[str, list[str]] = {}
    for name, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        base = aliases.get(name.split(".")[0], name) if name.startswith(("emails", "phones")) else name
        key = keys.get(f"{record}:{base}", "__all__")
        errors.setdefault(key, []).extend(messages)
    return ValidationError(errors)


def _describe(main: str, extra: list[str]) -> str:
    return "\n\n".join(x for x in (main, "\n".join(extra)) if x)


def _create_lead(form: WebForm, values: dict, extra: list[str]):
    data = {**values["lead"], "source": Source.WEB_FORM,
            "description": _describe(values["lead"].get("description", ""), extra)}
    data.setdefault("name", data.get("email") or data.get("phone") or data.get("company") or form.name)
    if form.lead_owner_id:
        data["owner_id"] = form.lead_owner_id
    return lead_services.create_lead(form.actor, data, auto_assign=True)


def _contact(form: WebForm, values: dict, consent: bool) -> Contact | None:
    """The contact with the email or phone given (their consent set when given now), else a new one."""
    given = values["contact"]
    email, phone = given.get("email", ""), given.get("phone", "")
    contact = vs.find_contact(email, phone)
    if contact is None:
        data = {k: v for k, v in given.items() if k not in ("email", "phone")}
        data.setdefault("name", email or phone)
        data.update(emails=[email] if email else [], phones=[phone] if phone else [], marketing_consent=consent)
        return customer_services.create_contact(form.actor, data)
    if consent and not contact.marketing_consent:
        contact = customer_services.update_contact(form.actor, contact, {"marketing_consent": True},
                                                   contact.version)
    return contact


def _create_ticket(form: WebForm, values: dict, extra: list[str], contact: Contact | None):
    ticket = values["ticket"]
    who = values["contact"].get("name") or values["contact"].get("email") or values["contact"].get("phone", "")
    visible = contact is not None and Contact.objects.visible_to(form.actor).filter(pk=contact.pk).exists()
    return service_services.create_ticket(form.actor, {
        **ticket, "subject": ticket.get("subject") or (_("%(form)s: %(who)s") % {"form": form.name, "who": who})[:200],
        "description": _describe(ticket.get("description", ""), extra), "channel": TicketChannel.WEB_FORM,
        "contact_id": contact.pk if visible else None, "queue_id": form.queue_id,
        "question_group_id": form.question_group_id})


def _fill(template: str, values: dict[str, str]) -> str:
    """{name}-style placeholders replaced by plain values (no attribute or index look-ups, unlike str.format)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _acknowledge(form: WebForm, submission: FormSubmission, values: dict, now: dt.datetime) -> None:
    record = "lead" if form.kind == FormKind.LEAD else "contact"
    to = values[record].get("email", "")
    mailbox = form.ack_mailbox
    if mailbox is None or not mailbox.active or not email_outbound.may_answer_automatically(mailbox, to, now):
        return
    ticket = submission.ticket
    number = ticket.number if ticket else f"L{submission.lead_id}"
    names = {"name": values[record].get("name", ""), "email": to, "number": number, "form": form.name}
    subject = _fill(form.ack_subject, names)
    if ticket is not None and mail.token_for(ticket.number) not in subject:  # a reply finds its ticket
        subject = f"{subject} {mail.token_for(ticket.number)}"
    body = _fill(form.ack_body, names)
    submission.ack_email = email_outbound.queue_mail(mailbox, ticket, OutboundKind.ACK, to, subject, body, "", [])


def check_flood(form: WebForm, ip: str | None) -> None:
    """Throttled when this address or everyone together sends this form too often (counted on the form)."""
    try:
        vs.check_rate(f"form-ip:{form.pk}:{ip}", settings.CC_FORM_PER_IP_PER_MINUTE)
        vs.check_rate(f"form:{form.pk}", settings.CC_FORM_PER_MINUTE)
    except vs.RateLimited:
        WebForm.objects.filter(pk=form.pk).update(throttled_count=F("throttled_count") + 1)
        raise Throttled


def submit(form: WebForm, data: dict[str, Any], meta: Meta, now: dt.datetime | None = None
           ) -> FormSubmission | None:
    """Accept a submission (the FormSubmission with its records), or None for a robot's (honeypot filled,
    sent faster than a person types): nothing is created and the form counts it as spam. Raises Throttled,
    or ValidationError keyed by field key ("_token" when the form must be reloaded)."""
    now = now or timezone.now()
    check_flood(form, meta.ip)
    age = _token_age(form, data.get(TOKEN))
    if age is None:
        fail({TOKEN: [_("This form has expired: submit it again.")]})
    if data.get(HONEYPOT) or age < settings.CC_FORM_MIN_SECONDS:
        WebForm.objects.filter(pk=form.pk).update(spam_count=F("spam_count") + 1)
        return None
    answers = clean_answers(form, data)
    if form.actor is None or not form.actor.can_edit:
        fail({"__all__": [_("This form does not take submissions now.")]})
    consent = form.consent_enabled and str(data.get(CONSENT) or "").lower() in YES
    return _store(form, answers, consent, meta, now)


@transaction.atomic
def _store(form: WebForm, answers: dict[str, Any], consent: bool, meta: Meta, now: dt.datetime) -> FormSubmission:
    values, extra, keys = _split(form, answers)
    submission = FormSubmission.objects.create(
        form=form, data=answers, ip=meta.ip, user_agent=meta.user_agent[:300], origin=meta.origin[:300],
        language=meta.language[:10], consent=consent, consent_text=form.consent_text if consent else "")
    step = "lead"
    try:
        if form.kind == FormKind.LEAD:
            submission.lead = _create_lead(form, values, extra)
        else:
            step = "contact"
            submission.contact = _contact(form, values, consent)
            step = "ticket"
            submission.ticket = _create_ticket(form, values, extra, submission.contact)
    except ValidationError as exc:
        raise _refile(exc, step, keys) from exc
    _acknowledge(form, submission, values, now)
    submission.save(update_fields=["lead", "contact", "ticket", "ack_email"])
    return submission
