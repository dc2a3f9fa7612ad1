"""Personal-data requests (PIPL / GDPR) about one contact: export everything held, or erase the person.

Erasure anonymises in place: the row and its id stay, so links to accounts, counts and aggregates do
not change, but nothing left on it (or in its audit trail) names or reaches the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, AuditEntry, User
from guanxi.core.people_services import shares_of
from guanxi.core.records import audit_trail, write_audit
from guanxi.quality.normalize import clean_text, search_text

from .models import Account, Address, Contact, ContactMethodKind
from .timeline import timeline_for

ERASED = "[erased]"  # stands in for every personal value in the audit trail
EXPORT_FORMAT = "guanxi.personal-data/1"
# Audit keys whose values say nothing about the person: kept as they are.
NON_PERSONAL_KEYS = {"owner_id", "team_id", "personal_data_exported", "erased", "_request"}
TIMELINE_LIMIT = 100_000  # an export holds the whole history, not a page of it


@dataclass(frozen=True)
class PersonalData:
    """What another app holds about a contact: `export(actor, contact)` gives the JSON-ready part of the export
    under `key`; `erase(contact, placeholder)` anonymises it in place and returns how many rows changed."""

    key: str
    export: Callable[[User, Contact], Any]
    erase: Callable[[Contact, str], int]


# Apps that keep personal data elsewhere (tickets, emails, chats) register here from their AppConfig.ready, so
# customers depends on none of them.
HOLDERS: dict[str, PersonalData] = {}


def register(holder: PersonalData) -> None:
    HOLDERS[holder.key] = holder


def may_request(actor: User, contact: Contact) -> bool:
    """Administrators and whoever may edit the contact may ask for its personal data."""
    if getattr(actor, "is_administrator", False):
        return True
    return Contact.objects.editable_by(actor).filter(pk=contact.pk).exists()


def _user(user: Any) -> str | None:
    return str(user) if user is not None else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@transaction.atomic
def export_person(actor: User, contact: Contact) -> dict[str, Any]:
    """Everything held about `contact` that `actor` may see, as plain JSON-ready data; the export is audited."""
    if not may_request(actor, contact):
        raise PermissionDenied(_("Only administrators and the users who may edit this contact may export "
                                 "their personal data."))
    contact = Contact.objects.select_related("owner", "team").get(pk=contact.pk)
    methods = list(contact.methods.all())
    out: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "exported_by": _user(actor),
        "contact": {
            "id": contact.pk, "name": contact.name, "title": contact.title, "department": contact.department,
            "phone": contact.phone, "email": contact.email, "birthday": _iso(contact.birthday),
            "preferred_channel": contact.preferred_channel, "marketing_consent": contact.marketing_consent,
            "consent_changed_at": _iso(contact.consent_changed_at), "description": contact.description,
            "owner": _user(contact.owner), "team": contact.team.name if contact.team_id else None,
            "created_at": _iso(contact.created_at), "updated_at": _iso(contact.updated_at),
            "version": contact.version,
        },
        "custom": dict(contact.custom or {}),
        "phones": [_method(m) for m in methods if m.kind == ContactMethodKind.PHONE],
        "emails": [_method(m) for m in methods if m.kind == ContactMethodKind.EMAIL],
        "addresses": [
            {"kind": a.kind, "country": a.country, "province": a.province, "city": a.city, "district": a.district,
             "street": a.street, "postcode": a.postcode, "line": str(a)}
            for a in Address.objects.filter(contact=contact).order_by("id")
        ],
        "tags": sorted(contact.tags.values_list("name", flat=True)),
        "accounts": [
            {"id": a.pk, "name": a.name}
            for a in Account.objects.visible_to(actor).filter(contacts=contact).order_by("name", "id")
        ],
        "timeline": [
            {"at": _iso(item.at), "kind": item.kind, "title": item.title, "body": item.body,
             "actor": _user(item.actor), "changes": item.changes}
            for item in timeline_for(contact, actor, limit=TIMELINE_LIMIT)
        ],
        "audit": [
            {"at": _iso(e.at), "actor": _user(e.actor), "action": e.action, "changes": e.changes,
             "version": e.version}
            for e in audit_trail(contact)
        ],
        "shares": [
            {"user": _user(s.user), "team": s.team.name if s.team_id else None} for s in shares_of(contact)
        ],
    }
    for holder in HOLDERS.values():
        out[holder.key] = holder.export(actor, contact)
    write_audit(contact, actor, AuditAction.UPDATE, {"personal_data_exported": [None, "json"]})
    return out


def _method(m) -> dict[str, Any]:
    return {"value": m.value, "normalized": m.normalized, "label": m.label, "is_primary": m.is_primary}


def erased_name(contact_id: int) -> str:
    # Stored data: written in the site's language, not the language of whoever pressed the button.
    with translation.override(settings.LANGUAGE_CODE):
        return _("Erased contact #%(id)s") % {"id": contact_id}


def _note_placeholder() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("This note was erased at the person's request.")


def erased_text() -> str:
    """Stands in for a text written by or about an erased person (a ticket's message, an email)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("This text was erased at the person's request.")


def _scrub(value: Any) -> Any:
    return value if value in (None, "", [], {}, ERASED) else ERASED


def _scrub_changes(changes: Any) -> Any:
    if not isinstance(changes, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in NON_PERSONAL_KEYS:
            out[key] = value
        elif isinstance(value, list | tuple) and len(value) == 2:
            out[key] = [_scrub(value[0]), _scrub(value[1])]
        else:
            out[key] = _scrub(value)
    return out


def scrub_audit(model: type, ids: Any, keys: set[str], repr_: Callable[[AuditEntry], str]) -> int:
    """Replace the values under `keys` in the audit trail of the `model` rows `ids` (and their names)."""
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    count = 0
    for entry in entries.select_for_update():
        changes = {k: ([_scrub(v[0]), _scrub(v[1])] if isinstance(v, list) and len(v) == 2 else _scrub(v))
                   if k in keys else v for k, v in (entry.changes or {}).items()}
        name = repr_(entry)
        if changes != entry.changes or name != entry.object_repr:
            entry.changes, entry.object_repr = changes, name
            entry.save(update_fields=["changes", "object_repr"])
            count += 1
    return count


def _scrub_change_requests(contact: Contact, actor: User, name: str) -> int:
    """Change requests on the person keep who asked and decided, not the values; pending ones are closed."""
    from guanxi.quality.approval_models import ChangeRequest, RequestStatus

    count = 0
    for request in ChangeRequest.objects.filter(kind="contact", object_id=contact.pk).select_for_update():
        scrubbed = _scrub_changes(request.changes)
        if scrubbed == request.changes and not request.data and request.status != RequestStatus.PENDING:
            continue
        request.changes, request.data, request.object_repr = scrubbed, {}, name
        if request.status == RequestStatus.PENDING:
            request.status, request.decided_by, request.decided_at = RequestStatus.REJECTED, actor, timezone.now()
            request.reason = _("The person's data was erased.")
        request.save()
        count += 1
    return count


@transaction.atomic
def erase_person(actor: User, contact: Contact, reason: Any) -> Contact:
    """Anonymise `contact` in place (administrators only); running it again changes nothing more."""
    if not getattr(actor, "is_administrator", False):
        raise PermissionDenied(_("Only administrators may erase a person's data."))
    reason = clean_text(reason) if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the erasure (e.g. the request it answers).")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("At most %(max)s characters.") % {"max": 500}]})
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    name = erased_name(current.pk)
    fields = {"name": name, "title": "", "department": "", "description": "", "birthday": None, "custom": {},
              "marketing_consent": False, "preferred_channel": "", "phone": "", "email": ""}
    changed = [k for k, v in fields.items() if getattr(current, k) != v]
    if current.marketing_consent:
        current.consent_changed_at = timezone.now()
    for key, value in fields.items():
        setattr(current, key, value)
    removed = current.methods.all().delete()[0] + Address.objects.filter(contact=current).delete()[0]
    tags = current.tags.count()
    if tags:
        current.tags.clear()
    from guanxi.activities.models import Note  # activities depends on customers, not the other way

    placeholder = _note_placeholder()
    notes = Note.objects.filter(contact=current).exclude(body=placeholder).update(body=placeholder)
    rewritten = 0
    for entry in audit_trail(current).select_for_update(of=("self",)):
        if "erased" in (entry.changes or {}):
            continue
        scrubbed = _scrub_changes(entry.changes)
        if scrubbed != entry.changes or entry.object_repr != name:
            entry.changes, entry.object_repr = scrubbed, name
            entry.save(update_fields=["changes", "object_repr"])
            rewritten += 1
    rewritten += _scrub_change_requests(current, actor, name)
    placeholder = erased_text()
    for holder in HOLDERS.values():
        rewritten += holder.erase(current, placeholder)
    if changed or removed or tags or notes or rewritten:
        current.search_text = search_text(names=[name])
        current.version += 1
        current.save()
        write_audit(current, actor, AuditAction.UPDATE, {"erased": [None, reason]})
    return current
