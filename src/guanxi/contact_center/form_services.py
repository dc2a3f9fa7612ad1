"""Building web forms (administrators): the record fields a form's fields may fill, and saving a form after
checking it can work (every field labelled and typed, each target used once and of the form's kind, someone to
create the records as, a way to answer the person, a mailbox that can send the acknowledgement).

The public side (a person submits a form) is in form_submit.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import access
from guanxi.core.models import CustomField, User
from guanxi.core.records import fail, int_or_none
from guanxi.quality.normalize import clean_text

from . import visitor_services as vs
from .email_models import Mailbox
from .form_models import FieldKind, FormKind, FormSubmission, WebForm

MAX_FIELDS = 30
SUBMISSION_SORTS = ["-created_at", "created_at"]
MAX_CHOICES = 50
KEY_RE = re.compile(r"f[0-9]{1,4}")
# The record fields a form field may fill, by form kind; custom fields add "<record>.custom.<key>".
TARGETS = {
    FormKind.LEAD: {
        "lead.name": gettext_lazy("Lead: name"), "lead.company": gettext_lazy("Lead: company"),
        "lead.title": gettext_lazy("Lead: job title"), "lead.email": gettext_lazy("Lead: email"),
        "lead.phone": gettext_lazy("Lead: phone"), "lead.industry": gettext_lazy("Lead: industry"),
        "lead.province": gettext_lazy("Lead: province"), "lead.city": gettext_lazy("Lead: city"),
        "lead.description": gettext_lazy("Lead: description"),
    },
    FormKind.TICKET: {
        "contact.name": gettext_lazy("Contact: name"), "contact.email": gettext_lazy("Contact: email"),
        "contact.phone": gettext_lazy("Contact: phone"), "contact.title": gettext_lazy("Contact: job title"),
        "contact.department": gettext_lazy("Contact: department"),
        "ticket.subject": gettext_lazy("Ticket: subject"), "ticket.description": gettext_lazy("Ticket: description"),
        "ticket.priority": gettext_lazy("Ticket: priority"),
    },
}
CUSTOM_MODEL = {FormKind.LEAD: "lead", FormKind.TICKET: "contact"}
# Targets that take only answers of one type.
TARGET_TYPES = {"email": {FieldKind.EMAIL, FieldKind.TEXT}, "phone": {FieldKind.PHONE, FieldKind.TEXT}}
EMAIL_TARGETS = {"lead.email", "contact.email"}
REACH = {FormKind.LEAD: ("lead.email", "lead.phone", "lead.company"), FormKind.TICKET: ("contact.email",
                                                                                         "contact.phone")}


def require_admin(user: User) -> None:
    access.require_admin(user, _("Only an administrator may manage web forms."))


def targets(kind: str) -> dict[str, str]:
    """Target → label for a form kind: the record fields, then the active custom fields of its record."""
    out = {k: str(v) for k, v in TARGETS.get(kind, {}).items()}
    model = CUSTOM_MODEL.get(kind)
    if model:
        prefix = _("Lead") if model == "lead" else _("Contact")
        for f in CustomField.objects.filter(model=model, active=True):
            out[f"{model}.custom.{f.key}"] = f"{prefix}: {f.label}"
    return out


def _clean_field(item: Any, i: int, allowed: dict[str, str], used: dict[str, int], errors: dict) -> dict | None:
    where = f"fields.{i}"
    if not isinstance(item, dict):
        errors[where] = [_("Expected an object.")]
        return None
    own: dict[str, list[str]] = {}
    label_zh = vs._text(item, "label_zh", 100, own)  # as written: full-width punctuation stays
    label_en = vs._text(item, "label_en", 100, own)
    if not (label_zh or label_en) and not own:
        own["label_zh"] = [_("Give the field a label (in Chinese, English or both).")]
    kind = item.get("type")
    if kind not in FieldKind.values:
        own["type"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(FieldKind.values)}]
    choices = item.get("choices") or []
    if isinstance(choices, str):
        choices = choices.splitlines()
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        own["choices"] = [_("Expected a list of choices.")]
        choices = []
    choices = list(dict.fromkeys(c.strip()[:100] for c in choices if c.strip()))
    if kind == FieldKind.CHOICE and not choices:
        own["choices"] = [_("A choice field needs its choices, one per line.")]
    elif len(choices) > MAX_CHOICES:
        own["choices"] = [_("At most %(max)s choices.") % {"max": MAX_CHOICES}]
    target = item.get("target") or ""
    if not isinstance(target, str) or (target and target not in allowed):
        own["target"] = [_("This form cannot fill that field.")]
    elif target in used:
        own["target"] = [_("Field %(n)s fills it already.") % {"n": used[target] + 1}]
    elif target and target.rsplit(".", 1)[-1] in TARGET_TYPES and kind not in TARGET_TYPES[target.rsplit(".", 1)[-1]]:
        own["type"] = [_("A field that fills an email or a phone must be of that type (or text).")]
    if target and not own:
        used[target] = i
    key = item.get("key")
    for name, messages in own.items():
        errors[f"{where}.{name}"] = messages
    if own:
        return None
    return {"key": key if isinstance(key, str) and KEY_RE.fullmatch(key) else "", "label_zh": label_zh,
            "label_en": label_en, "type": kind, "required": item.get("required") in (True, "1", "on", "true", "yes"),
            "target": target, "choices": choices if kind == FieldKind.CHOICE else []}


def clean_fields_list(kind: str, value: Any, errors: dict, last_key: int = 0) -> tuple[list[dict], int]:
    """(The form's fields, checked; the last key given.) New fields get the next key never used by the form
    (f1, f2 …, so old answers never take a new field's label); a field keeps its key when fields move."""
    if not isinstance(value, list):
        errors["fields"] = [_("Expected a list of fields.")]
        return [], last_key
    if not value:
        errors["fields"] = [_("Add at least one field.")]
    if len(value) > MAX_FIELDS:
        errors["fields"] = [_("At most %(max)s fields.") % {"max": MAX_FIELDS}]
        return [], last_key
    allowed, used = targets(kind), {}
    fields = [f for i, item in enumerate(value) if (f := _clean_field(item, i, allowed, used, errors))]
    seen: set[str] = set()
    for f in fields:
        if f["key"] in seen or (f["key"] and int(f["key"][1:]) > last_key):
            f["key"] = ""  # a duplicate, or a key this form never gave
        seen.add(f["key"])
    n = last_key
    for f in fields:
        if not f["key"]:
            n += 1
            f["key"] = f"f{n}"
    if not errors and kind in REACH and not used.keys() & set(REACH[kind]):
        errors["fields"] = [_("Add a field that fills one of: %(targets)s, so that someone can answer.")
                            % {"targets": ", ".join(str(allowed[t]) for t in REACH[kind])}]
    return fields, n


def _pick(data: dict, field: str, queryset, errors: dict):
    value = data.get(field)
    if value in (None, ""):
        return None
    obj = queryset.filter(pk=int_or_none(value)).first()
    if obj is None:
        errors[field] = [_("Choose one from the list.")]
    return obj


def _flag(data: dict, name: str, default: bool) -> bool:
    value = data.get(name, default)
    return value not in (False, None, "", "0", "false", "off")


@transaction.atomic
def save_form(actor: User, form: WebForm | None, data: dict[str, Any]) -> WebForm:
    """Create or change a web form (every setting at once; see the API's WebFormIn for the fields)."""
    from guanxi.service.models import QuestionGroup, Queue

    require_admin(actor)
    errors: dict[str, list[str]] = {}
    form = form or WebForm()
    form.name = clean_text(vs._text(data, "name", 100, errors, required=True))
    kind = data.get("kind") if form.pk is None else form.kind
    if kind not in FormKind.values:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(FormKind.values)}]
    form.kind = kind if kind in FormKind.values else FormKind.TICKET
    for name, limit in (("title_zh", 200), ("title_en", 200), ("consent_text_zh", 500), ("consent_text_en", 500),
                        ("success_message", 500), ("ack_subject", 200)):
        setattr(form, name, vs._text(data, name, limit, errors))
    form.ack_body = vs._text(data, "ack_body", 5000, errors)
    form.fields, form.last_key = clean_fields_list(form.kind, data.get("fields"), errors, form.last_key)
    form.consent_enabled = _flag(data, "consent_enabled", False)
    if form.consent_enabled and not (form.consent_text_zh or form.consent_text_en):
        errors["consent_text_zh"] = [_("Write the consent text the person agrees to.")]
    form.redirect_url = vs.clean_url(data.get("redirect_url"), "redirect_url", errors, required=False)
    form.allowed_origins = vs.clean_origins(data.get("allowed_origins"), errors)
    form.queue = _pick(data, "queue_id", Queue.objects.all(), errors) if form.kind == FormKind.TICKET else None
    form.question_group = (_pick(data, "question_group_id", QuestionGroup.objects.filter(active=True), errors)
                           if form.kind == FormKind.TICKET else None)
    form.lead_owner = (_pick(data, "lead_owner_id", User.objects.filter(is_active=True), errors)
                       if form.kind == FormKind.LEAD else None)
    form.actor = _pick(data, "actor_id", User.objects.filter(is_active=True), errors)
    if "actor_id" not in errors and (form.actor is None or not form.actor.can_edit):
        errors["actor_id"] = [_("Choose an active user who may create records.")]
    form.ack_mailbox = _pick(data, "ack_mailbox_id", Mailbox.objects.filter(active=True), errors)
    if form.ack_mailbox is not None:
        if not form.ack_mailbox.smtp_host:
            errors["ack_mailbox_id"] = [_("This mailbox has no SMTP server to send from.")]
        if not form.ack_subject:
            errors["ack_subject"] = [_("Write the acknowledgement's subject.")]
        if not form.ack_body.strip():
            errors["ack_body"] = [_("Write the acknowledgement's text.")]
        if not any(f["target"] in EMAIL_TARGETS for f in form.fields) and "fields" not in errors:
            errors["ack_mailbox_id"] = [_("Add a field that fills the email address to acknowledge to.")]
    form.active = _flag(data, "active", True)
    fail(errors)
    form.save()
    return form


@transaction.atomic
def delete_form(actor: User, form: WebForm) -> None:
    """Delete a form and its submissions (the leads and tickets they created stay)."""
    require_admin(actor)
    form.delete()


def submissions_for(user: User, form: WebForm):
    """The form's submissions the user may see, with what a list shows of each (no query per row)."""
    return (FormSubmission.objects.visible_to(user).filter(form=form)
            .select_related("lead", "ticket", "contact", "ack_email"))
