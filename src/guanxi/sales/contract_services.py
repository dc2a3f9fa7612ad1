"""Contract use cases: create, edit (with the version read), activate, terminate, renew (a new contract linked
to the old one, which becomes renewed), and the sweep that reminds the owner before the renewal date (once per
contract and renewal date) and marks active contracts past their end expired."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

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
from guanxi.customers.models import Account
from guanxi.quality.normalize import clean_text

from .catalog_services import clean_number
from .contract_models import Contract, ContractStatus
from .quote_models import Order
from .quote_services import next_number
from .services import _clean_currency, _pick, _require_editor, check_rate

logger = logging.getLogger(__name__)
FIELDS = ["title", "start_date", "end_date", "renewal_date", "renewal_reminder_days", "notes"]
AUDITED = FIELDS + ["account_id", "order_id", "value", "currency", "status", "owner_id"]
# Which status a user may set by hand, from which.
MOVES = {ContractStatus.ACTIVE: {ContractStatus.DRAFT}, ContractStatus.TERMINATED: {ContractStatus.DRAFT,
                                                                                     ContractStatus.ACTIVE}}


def _clean(actor: User, data: dict[str, Any], contract: Contract | None) -> dict[str, Any]:
    partial = contract is not None
    data = {k: clean_text(v) if isinstance(v, str) and k in ("title", "notes") else v for k, v in data.items()}
    if not partial and data.get("renewal_reminder_days") in (None, ""):
        data["renewal_reminder_days"] = 30
    cleaned, errors = clean_fields(Contract, data, FIELDS, partial=partial)
    if data.get("account_id") not in (None, ""):
        cleaned["account"] = _pick(Account, actor, data["account_id"], errors, "account_id",
                                   _("Choose an account you can see."))
    if data.get("order_id") not in (None, ""):
        cleaned["order"] = _pick(Order, actor, data["order_id"], errors, "order_id", _("Choose an order you can see."))
    elif "order_id" in data:
        cleaned["order"] = None
    order = cleaned.get("order", contract.order if contract else None)
    if "account" not in cleaned and not partial:
        if order is not None:
            cleaned["account"] = order.account
        elif "account_id" not in errors:
            errors["account_id"] = [_("Choose an account.")]
    account = cleaned.get("account", contract.account if contract else None)
    if order is not None and account is not None and order.account_id != account.pk:
        errors["order_id"] = [_("This order belongs to another account.")]
    if "value" in data or not partial:
        value = data.get("value")
        if value in (None, "") and order is not None:
            value = order.gross_total
        cleaned["value"] = clean_number(value if value not in (None, "") else 0, "value", errors)
    if data.get("currency") not in (None, ""):
        cleaned["currency"] = _clean_currency(data["currency"], errors)
        if contract is None or cleaned["currency"] != contract.currency:
            check_rate(cleaned["currency"], errors)
    elif not partial:
        cleaned["currency"] = order.currency if order is not None else "CNY"
    start = cleaned.get("start_date", contract.start_date if contract else None)
    end = cleaned.get("end_date", contract.end_date if contract else None)
    if start and end and end < start:
        errors["end_date"] = [_("The contract cannot end before it starts.")]
    fail(errors)
    return cleaned


@transaction.atomic
def create_contract(actor: User, data: dict[str, Any]) -> Contract:
    """A draft contract owned by the actor (an active one with status="active")."""
    _require_editor(actor)
    cleaned = _clean(actor, data, None)
    contract = Contract(**cleaned)
    if data.get("status") == ContractStatus.ACTIVE:
        contract.status = ContractStatus.ACTIVE
    contract.set_owner(actor)
    contract.number = next_number("HT")
    contract.save()
    write_audit(contract, actor, AuditAction.CREATE,
                creation_changes(contract, AUDITED))
    return contract


def _locked(actor: User, contract: Contract, version: Any = None) -> Contract:
    _require_editor(actor)
    if not Contract.objects.editable_by(actor).filter(pk=contract.pk).exists():
        raise PermissionDenied(_("You may not change this contract."))
    current = Contract.objects.select_for_update().get(pk=contract.pk)
    if version is not None:
        check_version(current, version)
    return current


def _save(actor: User, contract: Contract, before: dict[str, Any]) -> Contract:
    contract.version += 1
    contract.save()
    write_audit(contract, actor, AuditAction.UPDATE, diff(before, snapshot(contract, AUDITED)))
    return contract


@transaction.atomic
def update_contract(actor: User, contract: Contract, data: dict[str, Any], version: Any) -> Contract:
    contract = _locked(actor, contract, version)
    if contract.status in (ContractStatus.RENEWED, ContractStatus.TERMINATED):
        fail({"status": [_("A renewed or terminated contract no longer changes.")]})
    cleaned = _clean(actor, data, contract)
    before = snapshot(contract, AUDITED)
    for key, value in cleaned.items():
        setattr(contract, key, value)
    return _save(actor, contract, before)


@transaction.atomic
def set_status(actor: User, contract: Contract, status: Any, version: Any) -> Contract:
    """Activate a draft, or terminate a draft or active contract."""
    contract = _locked(actor, contract, version)
    if status not in MOVES or contract.status not in MOVES[status]:
        fail({"status": [_("A %(current)s contract cannot become %(new)s.")
                         % {"current": contract.get_status_display(), "new": str(status)[:20]}]})
    before = snapshot(contract, AUDITED)
    contract.status = status
    return _save(actor, contract, before)


@transaction.atomic
def renew_contract(actor: User, contract: Contract, data: dict[str, Any], version: Any) -> Contract:
    """A new active contract for the next term (by default as long as this one, starting the day after it ends,
    with the same value), linked to this one, which becomes renewed."""
    contract = _locked(actor, contract, version)
    if contract.status not in (ContractStatus.ACTIVE, ContractStatus.EXPIRED):
        fail({"status": [_("Only an active or expired contract can be renewed.")]})
    if Contract.objects.filter(previous=contract).exists():
        fail({"status": [_("This contract was renewed already.")]})
    term = contract.end_date - contract.start_date
    start = contract.end_date + dt.timedelta(days=1)
    defaults = {"account_id": contract.account_id, "title": contract.title, "start_date": start,
                "end_date": start + term, "value": contract.value, "currency": contract.currency,
                "renewal_reminder_days": contract.renewal_reminder_days, "notes": contract.notes}
    if contract.renewal_date:
        defaults["renewal_date"] = start + term - (contract.end_date - contract.renewal_date)
    merged = {**defaults, **{k: v for k, v in data.items() if v not in (None, "") and k in FIELDS + ["value"]}}
    cleaned = _clean(actor, merged, None)
    new = Contract(**cleaned, previous=contract, status=ContractStatus.ACTIVE, number=next_number("HT"))
    new.set_owner(contract.owner or actor)
    new.save()
    before = snapshot(contract, AUDITED)
    contract.status = ContractStatus.RENEWED
    _save(actor, contract, before)
    write_audit(new, actor, AuditAction.CREATE, {"previous": [None, contract.number]})
    return new


def visible_contract(user: User, pk: Any) -> Contract | None:
    return Contract.objects.visible_to(user).filter(pk=int_or_none(pk)).first()


# ---------------------------------------------------------------- the sweep


def remind_renewals(now: dt.datetime) -> int:
    """Remind each active contract's owner once per renewal date, from `renewal_reminder_days` before it: an
    in-app notification and an email. The contract is claimed (reminded_for = renewal date) first."""
    today = timezone.localdate(now)
    due = list(Contract.objects.filter(status=ContractStatus.ACTIVE, remind_on__lte=today,
                                       renewal_date__isnull=False)
               .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=F("renewal_date")))
               .select_related("owner", "account").order_by("remind_on", "pk")[:500])
    sent = 0
    for contract in due:
        claimed = Contract.objects.filter(pk=contract.pk, renewal_date=contract.renewal_date).filter(
            Q(reminded_for__isnull=True) | ~Q(reminded_for=F("renewal_date"))).update(reminded_for=F("renewal_date"))
        user = contract.owner
        if not claimed or user is None or not user.is_active:
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = _("Contract %(number)s with %(account)s renews on %(date)s") % {
                "number": contract.number, "account": contract.account.name,
                "date": contract.renewal_date.isoformat()}
            body = "\n".join([contract.title, f"{contract.value} {contract.currency}",
                              f"{contract.start_date} – {contract.end_date}"])
        notify(user, subject, reverse("sales:contract_detail", args=[contract.pk]),
               key=f"contract-renewal:{contract.pk}:{contract.renewal_date.isoformat()}")
        if user.email:
            try:
                send_mail(subject, body, None, [user.email])
            except Exception:  # the SMTP server is down: the in-app reminder stands
                logger.exception("renewal email for contract %s failed", contract.pk)
        sent += 1
    return sent


def expire_contracts(today: dt.date) -> int:
    """Active contracts past their end become expired (set-based; idempotent)."""
    return Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today).update(
        status=ContractStatus.EXPIRED, version=F("version") + 1, updated_at=timezone.now())
