"""Lead use cases: create (assigned by the rules when asked), edit, work and qualify, disqualify, reopen,
convert into account + contact + opportunity, and the administration of assignment rules.

One function per user action, each in one transaction; bad input raises ValidationError keyed by field and
changes nothing; a stale `version` raises EditConflict.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities import services as activity_services
from guanxi.core.models import AuditAction, User
from guanxi.core.records import check_version, clean_fields, diff, fail, int_or_none, snapshot, write_audit
from guanxi.core.services import assignable_users
from guanxi.customers import services as customer_services
from guanxi.customers.models import Account, Contact, Industry, Source
from guanxi.quality.normalize import clean_text, normalize_email, normalize_phone

from . import assignment
from . import services as sales_services
from .lead_models import OPEN_LEAD_STATUSES, Lead, LeadAssignmentRule, LeadRuleMember, LeadStatus

LEAD_FIELDS = ["name", "company", "title", "source", "industry", "province", "city", "rating", "description"]
AUDITED = LEAD_FIELDS + ["phone", "email", "status", "disqualified_reason", "owner_id", "custom",
                         "converted_account_id", "converted_contact_id", "converted_opportunity_id"]
RULE_AUDITED = ["name", "position", "active", "sources", "industries", "provinces"]
# Status changes a user may make by hand; conversion is its own action and final.
MOVES = {
    LeadStatus.NEW: {LeadStatus.WORKING, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED},
    LeadStatus.WORKING: {LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED, LeadStatus.NEW},
    LeadStatus.QUALIFIED: {LeadStatus.WORKING, LeadStatus.DISQUALIFIED},
    LeadStatus.DISQUALIFIED: {LeadStatus.NEW, LeadStatus.WORKING},
    LeadStatus.CONVERTED: set(),
}


def _require_editor(actor: User) -> None:
    if not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))


def clean_lead_values(data: dict, *, partial: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The lead's own fields (text, choices, lengths, phone to E.164, email), with no database: the form, the API
    and imports clean them alike. `partial`: only the fields given."""
    errors: dict[str, list[str]] = {}
    data = {k: clean_text(v) if isinstance(v, str) and k != "description" else v for k, v in data.items()}
    cleaned, errs = clean_fields(Lead, data, LEAD_FIELDS, partial=partial)
    errors.update(errs)
    if "phone" in data:
        cleaned["phone"] = customer_services.clean_normalized(
            lambda v: normalize_phone(v, settings.PHONE_REGION), data["phone"], "phone", errors)
    if "email" in data:
        cleaned["email"] = customer_services.clean_normalized(normalize_email, data["email"], "email", errors)
    return cleaned, errors


def follow_up_error() -> str:
    return _("Give a phone, an email or a company, so that someone can follow the lead up.")


def _clean_lead(actor: User, data: dict, lead: Lead | None) -> dict[str, Any]:
    partial = lead is not None
    cleaned, errors = clean_lead_values(data, partial=partial)
    customer_services.clean_owner_and_custom(actor, data, lead, "lead", cleaned, errors)
    if not partial and not errors and not (cleaned.get("phone") or cleaned.get("email") or cleaned.get("company")):
        errors["phone"] = [follow_up_error()]
    fail(errors)
    return cleaned


def _apply(lead: Lead, cleaned: dict) -> None:
    for key, value in cleaned.items():
        if key == "owner":
            lead.set_owner(value)
        else:
            setattr(lead, key, value)


def assignment_rules() -> list[assignment.Rule]:
    members: dict[int, list[int]] = {}
    for m in LeadRuleMember.objects.order_by("rule_id", "position", "id").values("rule_id", "user_id"):
        members.setdefault(m["rule_id"], []).append(m["user_id"])
    return [
        assignment.Rule(id=r.pk, members=members.get(r.pk, []), sources=frozenset(r.sources),
                        industries=frozenset(r.industries), provinces=frozenset(r.provinces),
                        last_user_id=r.last_user_id, active=r.active)
        for r in LeadAssignmentRule.objects.order_by("position", "id")
    ]


def _assign_by_rules(lead: Lead) -> bool:
    """Give the lead to the next rep of the first matching rule; the rule row is locked so that two leads
    created at once go to two different reps. False when no rule applies."""
    LeadAssignmentRule.objects.select_for_update().filter(active=True).exists()  # lock before reading turns
    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    choice = assignment.pick(assignment_rules(), {"source": lead.source, "industry": lead.industry,
                                        "province": lead.province}, active)
    if choice is None:
        return False
    lead.set_owner(User.objects.get(pk=choice.user_id))
    lead.assigned_by_rule_id = choice.rule_id
    LeadAssignmentRule.objects.filter(pk=choice.rule_id).update(last_user_id=choice.user_id)
    return True


@transaction.atomic
def create_lead(actor: User, data: dict[str, Any], *, auto_assign: bool = False) -> Lead:
    """A new lead. With `auto_assign` and no owner given, the assignment rules choose the owner (the actor
    when no rule applies)."""
    _require_editor(actor)
    given_owner = "owner_id" in data
    cleaned = _clean_lead(actor, data, None)
    lead = Lead()
    _apply(lead, cleaned)
    if auto_assign and not given_owner:
        _assign_by_rules(lead)
    lead.save()
    after = snapshot(lead, AUDITED)
    write_audit(lead, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    return lead


def _locked(lead: Lead, version: Any, data: dict | None = None) -> Lead:
    current = Lead.objects.select_for_update().get(pk=lead.pk)
    check_version(current, version, data)
    return current


def _save(actor: User, lead: Lead, before: dict) -> Lead:
    lead.version += 1
    lead.save()
    write_audit(lead, actor, AuditAction.UPDATE, diff(before, snapshot(lead, AUDITED)))
    return lead


@transaction.atomic
def update_lead(actor: User, lead: Lead, data: dict[str, Any], version: Any) -> Lead:
    _require_editor(actor)
    current = _locked(lead, version, data)
    if current.status == LeadStatus.CONVERTED:
        fail({"status": [_("This lead was converted; change the account, contact or opportunity instead.")]})
    cleaned = _clean_lead(actor, data, current)
    before = snapshot(current, AUDITED)
    _apply(current, cleaned)
    return _save(actor, current, before)


@transaction.atomic
def set_lead_status(actor: User, lead: Lead, status: Any, version: Any, reason: str | None = None) -> Lead:
    """Contacted, qualified, disqualified (with a reason) or back to new; conversion is `convert_lead`."""
    _require_editor(actor)
    current = _locked(lead, version)
    if status not in LeadStatus.values or status == LeadStatus.CONVERTED:
        fail({"status": [_("Choose contacted, qualified, disqualified or new; convert a lead to close it.")]})
    if status not in MOVES[current.status] and status != current.status:
        fail({"status": [_("A %(from)s lead cannot become %(to)s.") % {
            "from": current.get_status_display(), "to": LeadStatus(status).label}]})
    text = clean_text(reason) if isinstance(reason, str) else ""
    if status == LeadStatus.DISQUALIFIED and not text:
        fail({"disqualified_reason": [_("Say why the lead is disqualified.")]})
    if len(text) > 200:
        fail({"disqualified_reason": [_("At most 200 characters.")]})
    before = snapshot(current, AUDITED)
    current.status = status
    current.disqualified_reason = text if status == LeadStatus.DISQUALIFIED else ""
    return _save(actor, current, before)


def _prefixed(exc: ValidationError, prefix: str) -> dict[str, list[str]]:
    return {f"{prefix}.{field}": msgs for field, msgs in customer_services.validation_messages(exc).items()}


def _convert_owner(actor: User, lead: Lead) -> dict[str, Any]:
    """What the converted records are owned by: the lead's owner when the actor may hand records to them."""
    if lead.owner_id and lead.owner_id != actor.pk and assignable_users(actor).filter(pk=lead.owner_id).exists():
        return {"owner_id": lead.owner_id}
    return {}


@transaction.atomic
def convert_lead(actor: User, lead: Lead, data: dict[str, Any], version: Any) -> Lead:
    """Turn the lead into an account (new, or `account_id`), a contact (new, or `contact_id`) linked to it,
    and, unless `create_opportunity` is false, an opportunity — without retyping; the lead's activities and
    tasks go on them too. All or nothing: an error in any part is reported under `account.*`, `contact.*` or
    `opportunity.*` and nothing is created."""
    _require_editor(actor)
    current = _locked(lead, version)
    if current.status not in OPEN_LEAD_STATUSES:
        fail({"status": [_("Only a new, contacted or qualified lead can be converted.")]})
    owner = _convert_owner(actor, current)
    errors: dict[str, list[str]] = {}

    account = None
    if data.get("account_id") not in (None, ""):
        account = Account.objects.visible_to(actor).filter(pk=int_or_none(data["account_id"])).first()
        if account is None:
            fail({"account_id": [_("Choose an account you can see.")]})
    else:
        name = data.get("account_name") or current.company or current.name
        fields = {"name": name, "industry": current.industry, "source": current.source, **owner}
        if current.province or current.city:
            fields["addresses"] = [{"province": current.province, "city": current.city}]
        try:
            account = customer_services.create_account(actor, fields)
        except ValidationError as exc:
            errors.update(_prefixed(exc, "account"))
            fail(errors)

    if data.get("contact_id") not in (None, ""):
        contact = Contact.objects.visible_to(actor).filter(pk=int_or_none(data["contact_id"])).first()
        if contact is None:
            fail({"contact_id": [_("Choose a contact you can see.")]})
        contact.accounts.add(account)
    else:
        fields = {"name": current.name, "title": current.title, "account_ids": [account.pk],
                  "phones": [current.phone] if current.phone else [],
                  "emails": [current.email] if current.email else [], **owner}
        try:
            contact = customer_services.create_contact(actor, fields)
        except ValidationError as exc:
            fail(_prefixed(exc, "contact"))

    opportunity = None
    if data.get("create_opportunity", True) not in (False, "false", "0", "", None):
        fields = {"name": data.get("opportunity_name") or f"{account.name} · {current.name}",
                  "account_id": account.pk, "contact_id": contact.pk, **owner}
        for key in ("amount", "pipeline_id", "expected_close", "currency"):
            if data.get(key) not in (None, ""):
                fields[key] = data[key]
        try:
            opportunity = sales_services.create_opportunity(actor, fields)
        except ValidationError as exc:
            fail(_prefixed(exc, "opportunity"))

    activity_services.carry_lead_follow_up(actor, current, account, contact, opportunity)
    before = snapshot(current, AUDITED)
    current.status = LeadStatus.CONVERTED
    current.converted_at = timezone.now()
    current.converted_account = account
    current.converted_contact = contact
    current.converted_opportunity = opportunity
    return _save(actor, current, before)


@transaction.atomic
def delete_lead(actor: User, lead: Lead) -> None:
    _require_editor(actor)
    write_audit(lead, actor, AuditAction.DELETE, snapshot(lead, AUDITED))
    activity_services.detach_leads([lead])
    lead.delete()


# ------------------------------------------------------------------ assignment rules (administrators)


def _clean_choices(values: Any, allowed: list[str], field: str, errors: dict) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("，", ",").split(",")]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        errors[field] = [_("Expected a list.")]
        return []
    values = list(dict.fromkeys(clean_text(v) for v in values if v.strip()))
    if allowed:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[field] = [_("Unknown: %(values)s.") % {"values": ", ".join(unknown)}]
    return values


@transaction.atomic
def save_assignment_rules(actor: User, rules: Any) -> list[LeadAssignmentRule]:
    """Replace the rules with `rules` (a list, in order): each {name, active, sources, industries, provinces,
    member_ids}. Errors are keyed `rules.<i>.<field>`; nothing changes when one is wrong."""
    if not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator may change the lead assignment rules."))
    if not isinstance(rules, list):
        fail({"rules": [_("Expected a list.")]})
    errors: dict[str, list[str]] = {}
    cleaned_rules = []
    active_users = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            errors[f"rules.{i}"] = [_("Expected a rule.")]
            continue
        errs: dict[str, list[str]] = {}
        name = clean_text(rule.get("name") or "") if isinstance(rule.get("name", ""), str) else ""
        if not name:
            errs["name"] = [_("This field is required.")]
        elif len(name) > 100:
            errs["name"] = [_("At most 100 characters.")]
        sources = _clean_choices(rule.get("sources"), list(Source.values), "sources", errs)
        industries = _clean_choices(rule.get("industries"), list(Industry.values), "industries", errs)
        provinces = _clean_choices(rule.get("provinces"), [], "provinces", errs)
        raw_members = rule.get("member_ids") or []
        member_ids = [int_or_none(m) for m in raw_members] if isinstance(raw_members, list) else [None]
        if not member_ids or any(m is None or m not in active_users for m in member_ids):
            errs["member_ids"] = [_("Choose one or more active users.")]
        errors.update({f"rules.{i}.{k}": v for k, v in errs.items()})
        cleaned_rules.append({"name": name, "active": rule.get("active", True) is not False, "sources": sources,
                              "industries": industries, "provinces": provinces,
                              "members": list(dict.fromkeys(member_ids))})
    fail(errors)
    existing = {r.pk: r for r in LeadAssignmentRule.objects.select_for_update()}
    kept: list[LeadAssignmentRule] = []
    for position, (raw, values) in enumerate(zip(rules, cleaned_rules, strict=True)):
        rule = existing.pop(int_or_none(raw.get("id")), None) or LeadAssignmentRule()
        before = snapshot(rule, RULE_AUDITED) if rule.pk else {}
        before["member_ids"] = list(rule.memberships.values_list("user_id", flat=True)) if rule.pk else None
        members = values.pop("members")
        for key, value in values.items():
            setattr(rule, key, value)
        rule.position = position
        rule.save()
        rule.memberships.all().delete()
        LeadRuleMember.objects.bulk_create(
            LeadRuleMember(rule=rule, user_id=uid, position=k) for k, uid in enumerate(members))
        changes = diff(before, {**snapshot(rule, RULE_AUDITED), "member_ids": members})
        if changes:
            write_audit(rule, actor, AuditAction.UPDATE if before.get("name") else AuditAction.CREATE, changes)
        kept.append(rule)
    for rule in existing.values():
        write_audit(rule, actor, AuditAction.DELETE, {"name": [rule.name, None]})
        rule.delete()
    return kept
