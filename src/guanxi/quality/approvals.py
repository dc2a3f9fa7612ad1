"""Change approval: a change to a sensitive field by someone who may not make it becomes a change request
that an approver accepts or rejects; the rest of the same edit is saved at once.

An update is a `Change` function: (actor, record, data, version) → (record, {field: [old, new]}), run
inside a transaction and writing no audit entry. Running it once in a savepoint tells which sensitive
fields the input really changes (values normalised exactly as a saved change would be), and accepting
a request runs it again as the approver, so the change applied is the one that was reviewed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, AuditEntry, User
from guanxi.core.records import write_audit

from .approval_models import ChangeRequest, RequestStatus
from .field_rules import BUILT_IN, Rules, may_change_sensitive, rules_for

Change = Callable[[User, models.Model, dict[str, Any], Any], tuple[models.Model, dict[str, list[Any]]]]

# The update of each record type, by dotted path so that this module needs no customers import.
CHANGES = {
    "account": "guanxi.customers.services.change_account",
    "contact": "guanxi.customers.services.change_contact",
}
MODELS = {"account": "customers.Account", "contact": "customers.Contact"}


def model_of(kind: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(MODELS[kind])


def _audit_owner(rules: Rules, audit_key: str) -> str | None:
    """The rule field an audit key belongs to."""
    if audit_key.startswith("custom."):
        return audit_key
    for f in BUILT_IN[rules.kind]:
        if audit_key in f.audit:
            return f.key
    return None


def _split(rules: Rules, data: dict[str, Any], held: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the input minus the held fields, the input of the held fields)."""
    rest, kept = dict(data), {}
    for f in BUILT_IN[rules.kind]:
        if f.key in held:
            for key in f.inputs:
                if key in rest:
                    kept[key] = rest.pop(key)
    custom = rest.get("custom")
    if isinstance(custom, dict):
        held_custom = {k: v for k, v in custom.items() if f"custom.{k}" in held}
        if held_custom:
            kept["custom"] = held_custom
            rest["custom"] = {k: v for k, v in custom.items() if k not in held_custom}
            if not rest["custom"]:
                del rest["custom"]
    return rest, kept


def guarded_update(actor: User, kind: str, record: models.Model, data: dict[str, Any], version: Any,
                   change: Change) -> models.Model:
    """Apply an update, holding its changes to sensitive fields for approval when the actor may not make
    them. Call inside a transaction. The record returned carries `change_request` (None when nothing was
    held)."""
    rules = rules_for(kind)
    touched = rules.touched(data) & rules.sensitive
    held_data: dict[str, Any] = {}
    held_changes: dict[str, list[Any]] = {}
    if touched and not may_change_sensitive(actor):
        sid = transaction.savepoint()
        _obj, trial = change(actor, record, data, version)  # validates everything, as a real save would
        transaction.savepoint_rollback(sid)
        held_changes = {k: v for k, v in trial.items() if _audit_owner(rules, k) in touched}
        if held_changes:
            data, held_data = _split(rules, data, {_audit_owner(rules, k) for k in held_changes})
    if data or not held_changes:  # with only held fields sent, the record stays as it is
        obj, changes = change(actor, record, data, version)
        write_audit(obj, actor, AuditAction.UPDATE, changes)
    else:
        obj = type(record)._base_manager.get(pk=record.pk)
    if held_changes:
        return _hold(actor, kind, obj, held_data, held_changes)
    obj.change_request = None
    return obj


def _hold(actor: User, kind: str, obj: models.Model, data: dict, changes: dict) -> models.Model:
    request = ChangeRequest.objects.create(kind=kind, object_id=obj.pk, object_repr=str(obj)[:200], data=data,
                                           changes=changes, requested_by=actor)
    entry = write_audit(obj, actor, AuditAction.REQUEST, {**changes, "_request": [None, request.pk]})
    ChangeRequest.objects.filter(pk=request.pk).update(request_entry=entry)
    request.request_entry = entry
    obj.change_request = request
    return obj


def held_owner_changes(actor: User, kind: str) -> bool:
    """True when an owner change by this actor must wait for approval (bulk reassignment asks per record)."""
    return "owner" in rules_for(kind).sensitive and not may_change_sensitive(actor)


def hold_owner_change(actor: User, kind: str, obj: models.Model, owner_id: int) -> ChangeRequest:
    """A reassignment that waits for approval, as if the actor had edited the owner on the record."""
    return _hold(actor, kind, obj, {"owner_id": owner_id}, {"owner_id": [obj.owner_id, owner_id]}).change_request


# ------------------------------------------------------------------ who sees which requests


def _visible_records(user: User) -> Q:
    """Requests on records the user may see."""
    q = Q(pk__in=[])
    for kind in MODELS:
        ids = model_of(kind).objects.visible_to(user).values("pk")
        q |= Q(kind=kind, object_id__in=ids)
    return q


def visible_requests(user: User) -> QuerySet[ChangeRequest]:
    """Your own requests, and, for an approver, the requests on records you may see."""
    qs = ChangeRequest.objects.select_related("requested_by", "decided_by")
    if user.is_administrator:
        return qs
    if may_change_sensitive(user):
        return qs.filter(Q(requested_by=user) | _visible_records(user))
    return qs.filter(requested_by=user)


def pending_for_record(user: User, obj: models.Model, kind: str) -> list[ChangeRequest]:
    return list(visible_requests(user).filter(kind=kind, object_id=obj.pk, status=RequestStatus.PENDING))


def _locked_request(actor: User, request_id: Any) -> ChangeRequest:
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise Http404 from None
    request = visible_requests(actor).filter(pk=pk).select_for_update(of=("self",)).first()
    if request is None:
        raise Http404
    if request.status != RequestStatus.PENDING:
        raise ValidationError({"status": [_("This request was already decided: %(status)s.")
                                          % {"status": request.get_status_display()}]})
    return request


def _locked_record(actor: User, request: ChangeRequest) -> models.Model:
    obj = model_of(request.kind).objects.visible_to(actor).filter(pk=request.object_id).first()
    if obj is None:
        raise ValidationError({"record": [_("The record no longer exists or you may not see it.")]})
    return obj


def _decide(request: ChangeRequest, actor: User, status: str, entry: AuditEntry | None, reason: str = "") -> None:
    request.status, request.decided_by, request.decided_at = status, actor, timezone.now()
    request.decision_entry, request.reason = entry, reason
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_entry", "reason"])


@transaction.atomic
def accept_request(actor: User, request_id: Any) -> ChangeRequest:
    """Apply the requested change as the approver; refused when a field changed since the request."""
    if not may_change_sensitive(actor):
        raise PermissionDenied(_("Only administrators and managers approve changes."))
    request = _locked_request(actor, request_id)
    obj = _locked_record(actor, request)
    change: Change = import_string(CHANGES[request.kind])
    sid = transaction.savepoint()
    obj, changes = change(actor, obj, dict(request.data), obj.version)
    stale = {k: v for k, v in request.changes.items() if changes.get(k) != v}
    if stale:
        transaction.savepoint_rollback(sid)
        raise ValidationError({k: [_("Changed since the request was made; reject it and ask again.")]
                               for k in stale})
    transaction.savepoint_commit(sid)
    entry = write_audit(obj, actor, AuditAction.APPROVE, {**changes, "_request": [None, request.pk]})
    _decide(request, actor, RequestStatus.ACCEPTED, entry)
    return request


@transaction.atomic
def reject_request(actor: User, request_id: Any, reason: str = "") -> ChangeRequest:
    if not may_change_sensitive(actor):
        raise PermissionDenied(_("Only administrators and managers approve changes."))
    reason = str(reason or "").strip()
    if len(reason) > 500:
        raise ValidationError({"reason": [_("A reason has at most 500 characters.")]})
    request = _locked_request(actor, request_id)
    entry = _decision_entry(request, actor, AuditAction.REJECT)
    _decide(request, actor, RequestStatus.REJECTED, entry, reason)
    return request


@transaction.atomic
def withdraw_request(actor: User, request_id: Any) -> ChangeRequest:
    request = _locked_request(actor, request_id)
    if request.requested_by_id != actor.pk:
        raise PermissionDenied(_("Only the person who asked may withdraw a request."))
    entry = _decision_entry(request, actor, AuditAction.WITHDRAW)
    _decide(request, actor, RequestStatus.WITHDRAWN, entry)
    return request


def _decision_entry(request: ChangeRequest, actor: User, action: str) -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model_of(request.kind)), object_id=request.object_id,
        object_repr=request.object_repr, actor=actor, action=action,
        changes={**request.changes, "_request": [None, request.pk]},
    )
