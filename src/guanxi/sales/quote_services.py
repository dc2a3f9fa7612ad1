"""Quote use cases: create and edit a draft (header and lines), discount approval, send by email with the PDF,
revise into a new version, reject, accept into an order. One function per user action, each one transaction.

Bad input raises ValidationError keyed by field (lines as `lines.N.field`) and changes nothing; a stale
`version` raises EditConflict. Totals follow `sales.pricing` (per line to 0.01 half up, totals = sums).
"""

from __future__ import annotations

import datetime as dt
import smtplib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import MANAGER_ROLES, AuditAction, User
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
from guanxi.customers.models import Account, Contact
from guanxi.quality.normalize import clean_text

from . import pricing
from .catalog_models import PriceList, Product
from .catalog_services import clean_number, default_price_list, list_price
from .models import Opportunity, StageKind
from .quote_models import (
    ApprovalStatus,
    CompanyProfile,
    Counter,
    Order,
    OrderLine,
    OrderStatus,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteStatus,
)
from .services import _clean_currency, _pick, _require_editor, check_rate

HEADER_FIELDS = ["title", "valid_until", "terms", "notes"]
AUDITED = HEADER_FIELDS + ["account_id", "contact_id", "opportunity_id", "currency", "price_list_id", "status",
                           "gross_total", "owner_id"]
LINE_COPY = ["position", "product_id", "description", "quantity", "unit", "unit_price", "discount", "tax_rate",
             "net", "tax", "gross"]
MAX_LINES = 200


def is_approver(user: User) -> bool:
    """Administrators and managers approve discounts (and need no approval for their own)."""
    return user.is_active and (user.is_administrator or user.role in MANAGER_ROLES)


def next_number(series: str) -> str:
    """The next number of a series for this year ("Q2026-00001"); the counter row is locked until commit."""
    key = f"{series}{timezone.now().year}"
    Counter.objects.get_or_create(key=key)
    counter = Counter.objects.select_for_update().get(key=key)
    counter.value += 1
    counter.save(update_fields=["value"])
    return f"{key}-{counter.value:05d}"


def _locked(quote: Quote, version: Any = None) -> Quote:
    current = Quote.objects.select_for_update().get(pk=quote.pk)
    if version is not None:
        check_version(current, version)
    return current


def _require_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        fail({"status": [_("Only a draft quote can change; revise it to make a new version.")]})


# ---------------------------------------------------------------- lines and totals


def _line_text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def clean_line(quote: Quote, data: dict[str, Any], errors: dict, prefix: str = "",
               line: QuoteLine | None = None) -> dict[str, Any]:
    """A line's values: the product's description, unit, tax rate and (from the quote's price list) unit price
    unless given; free text lines need a description and a price."""
    out: dict[str, Any] = {}
    product = line.product if line else None
    if data.get("product_id") not in (None, ""):
        product = Product.objects.filter(pk=int_or_none(data["product_id"]), active=True).first()
        if product is None:
            errors[prefix + "product_id"] = [_("No such product (or it is no longer sold).")]
        out["product"] = product
    elif "product_id" in data:
        product = out["product"] = None
    quantity = line.quantity if line else Decimal(1)
    if "quantity" in data or line is None:
        quantity = clean_number(data.get("quantity", 1), prefix + "quantity", errors, places=3)
        out["quantity"] = quantity
    for key, maximum in (("discount", Decimal(100)), ("tax_rate", Decimal(100)), ("unit_price", None)):
        if data.get(key) not in (None, ""):
            out[key] = clean_number(data[key], prefix + key, errors, maximum=maximum)
    description = _line_text(data.get("description"))
    if description:
        if len(description) > 500:
            errors[prefix + "description"] = [_("At most 500 characters.")]
        out["description"] = description
    if data.get("unit") not in (None, ""):
        out["unit"] = _line_text(data["unit"])[:20]
    if product is not None and "product" in out:  # a newly chosen product fills what was not given
        out.setdefault("description", product.name)
        out.setdefault("unit", product.get_unit_display())
        out.setdefault("tax_rate", product.tax_rate)
    if product is not None and "unit_price" not in out and ("product" in out or "quantity" in out) and quantity:
        price = list_price(quote.price_list, product, quantity) if quote.price_list_id else None
        if price is not None:
            out["unit_price"] = price
        elif line is None or "product" in out:
            errors.setdefault(prefix + "unit_price", [_("This product is not in the quote's price list: enter a "
                                                        "unit price.")])
    if line is None:
        if not out.get("description") and prefix + "product_id" not in errors:
            errors[prefix + "description"] = [_("Choose a product or describe the line.")]
        if out.get("unit_price") is None and not any(k.startswith(prefix) for k in errors):
            errors[prefix + "unit_price"] = [_("Enter a unit price.")]
        out.setdefault("discount", Decimal(0))
        out.setdefault("tax_rate", Decimal(0))
    return out


def recalculate(quote: Quote, lines: list[QuoteLine] | None = None) -> None:
    """Line amounts and the quote's totals from its lines (saved)."""
    lines = list(quote.lines.all()) if lines is None else lines
    result = pricing.totals([pricing.Line(quantity=ln.quantity, unit_price=ln.unit_price, currency=quote.currency,
                                          discount=ln.discount, tax_rate=ln.tax_rate) for ln in lines],
                            quote.currency)
    for ln, amounts in zip(lines, result.lines, strict=True):
        ln.net, ln.tax, ln.gross = amounts.net, amounts.tax, amounts.gross
    QuoteLine.objects.bulk_update(lines, ["net", "tax", "gross", "position"])
    quote.net_total, quote.tax_total, quote.gross_total = result.net, result.tax, result.gross
    quote.max_discount = max((ln.discount for ln in lines), default=Decimal(0))


def _save_changed(actor: User | None, quote: Quote, changes: dict) -> Quote:
    quote.version += 1
    quote.save()
    write_audit(quote, actor, AuditAction.UPDATE, changes)
    return quote


def _lines_summary(quote: Quote) -> dict[str, Any]:
    return {"lines": len(quote.lines.all()), "gross_total": str(quote.gross_total)}


def _create_lines(quote: Quote, items: Any, errors: dict, start: int = 0) -> list[QuoteLine]:
    if not isinstance(items, list):
        errors["lines"] = [_("Expected a list.")]
        return []
    if start + len(items) > MAX_LINES:
        errors["lines"] = [_("At most %(max)s lines.") % {"max": MAX_LINES}]
        return []
    made = []
    for n, item in enumerate(items):
        values = clean_line(quote, item if isinstance(item, dict) else {}, errors, f"lines.{start + n}.")
        made.append(QuoteLine(quote=quote, position=start + n, **values))
    return made


@transaction.atomic
def add_lines(actor: User, quote: Quote, items: list[dict[str, Any]], version: Any) -> Quote:
    _require_editor(actor)
    quote = _locked(quote, version)
    _require_draft(quote)
    errors: dict[str, list[str]] = {}
    existing = list(quote.lines.all())
    made = _create_lines(quote, items, errors, start=len(existing))
    fail(errors)
    before = _lines_summary(quote)
    QuoteLine.objects.bulk_create(made)
    recalculate(quote)
    return _save_changed(actor, quote, diff(before, _lines_summary(quote)))


def _draft_line(actor: User, quote: Quote, line_id: Any, version: Any) -> tuple[Quote, QuoteLine]:
    """The locked draft and one of its lines, for a line change."""
    _require_editor(actor)
    quote = _locked(quote, version)
    _require_draft(quote)
    line = quote.lines.filter(pk=int_or_none(line_id)).first()
    if line is None:
        fail({"line_id": [_("No such line on this quote.")]})
    return quote, line


@transaction.atomic
def update_line(actor: User, quote: Quote, line_id: Any, data: dict[str, Any], version: Any) -> Quote:
    quote, line = _draft_line(actor, quote, line_id, version)
    errors: dict[str, list[str]] = {}
    values = clean_line(quote, data, errors, line=line)
    fail(errors)
    before = _lines_summary(quote)
    for key, value in values.items():
        setattr(line, key, value)
    if not line.description:
        fail({"description": [_("Choose a product or describe the line.")]})
    line.save()
    recalculate(quote)
    changes = diff(before, _lines_summary(quote))
    changes[f"line.{line.position + 1}"] = [None, f"{line.description} × {line.quantity.normalize()}"]
    return _save_changed(actor, quote, changes)


@transaction.atomic
def remove_line(actor: User, quote: Quote, line_id: Any, version: Any) -> Quote:
    quote, line = _draft_line(actor, quote, line_id, version)
    before = _lines_summary(quote)
    line.delete()
    lines = list(quote.lines.all())
    for i, ln in enumerate(lines):
        ln.position = i
    recalculate(quote, lines)
    return _save_changed(actor, quote, diff(before, _lines_summary(quote)))


# ---------------------------------------------------------------- the quote itself


def _clean_header(actor: User, data: dict[str, Any], quote: Quote | None) -> dict[str, Any]:
    partial = quote is not None
    data = {**data, "title": clean_text(data["title"])} if isinstance(data.get("title"), str) else data
    cleaned, errors = clean_fields(Quote, data, HEADER_FIELDS, partial=partial)
    opportunity = quote.opportunity if quote else None
    if data.get("opportunity_id") not in (None, ""):
        opportunity = _pick(Opportunity, actor, data["opportunity_id"], errors, "opportunity_id",
                            _("Choose an opportunity you can see."))
        cleaned["opportunity"] = opportunity
    elif "opportunity_id" in data:
        opportunity = cleaned["opportunity"] = None
    if data.get("account_id") not in (None, ""):
        cleaned["account"] = _pick(Account, actor, data["account_id"], errors, "account_id",
                                   _("Choose an account you can see."))
    elif opportunity is not None and not partial:
        cleaned["account"] = opportunity.account
    elif not partial:
        errors["account_id"] = [_("Choose an account or an opportunity.")]
    account = cleaned.get("account", quote.account if quote else None)
    if opportunity is not None and account is not None and opportunity.account_id != account.pk:
        errors["opportunity_id"] = [_("This opportunity belongs to another account.")]
    if data.get("contact_id") not in (None, ""):
        cleaned["contact"] = _pick(Contact, actor, data["contact_id"], errors, "contact_id", _("No such contact."))
    elif "contact_id" in data:
        cleaned["contact"] = None
    elif not partial and opportunity is not None:
        cleaned["contact"] = opportunity.contact
    # Currency and price list: given, or each from the other, or the opportunity's currency, or CNY.
    currency = None
    if data.get("currency") not in (None, ""):
        currency = _clean_currency(data["currency"], errors)
    price_list = quote.price_list if quote else None
    if data.get("price_list_id") not in (None, ""):
        price_list = PriceList.objects.filter(pk=int_or_none(data["price_list_id"])).first()
        if price_list is None:
            errors["price_list_id"] = [_("No such price list.")]
        cleaned["price_list"] = price_list
    elif "price_list_id" in data:
        price_list = cleaned["price_list"] = None
    if "currency" in errors:
        fail(errors)
    if currency is None:
        currency = quote.currency if quote else (
            price_list.currency if price_list else (opportunity.currency if opportunity else "CNY"))
    if price_list is None and not partial and "price_list_id" not in data:
        price_list = cleaned["price_list"] = default_price_list(currency)
    if price_list is not None and price_list.currency != currency:
        errors["currency"] = [_("The price list is in %(currency)s: the quote must be too.")
                              % {"currency": price_list.currency}]
    if quote is not None and currency != quote.currency and quote.lines.exists():
        errors["currency"] = [_("Remove the lines before changing the currency: prices are per currency.")]
    cleaned["currency"] = currency
    if quote is None or currency != quote.currency:
        check_rate(currency, errors)
    fail(errors)
    return cleaned


@transaction.atomic
def create_quote(actor: User, data: dict[str, Any]) -> Quote:
    """A draft quote, owned by the actor, with the lines given (if any)."""
    _require_editor(actor)
    cleaned = _clean_header(actor, data, None)
    profile = CompanyProfile.current()
    quote = Quote(**cleaned)
    quote.set_owner(actor)
    if quote.valid_until is None:
        quote.valid_until = timezone.localdate() + dt.timedelta(days=profile.quote_valid_days)
    if not quote.terms:
        quote.terms = profile.quote_terms
    errors: dict[str, list[str]] = {}
    lines = _create_lines(quote, data.get("lines") or [], errors)
    fail(errors)
    quote.number = next_number("Q")
    quote.save()
    for line in lines:
        line.quote = quote
    QuoteLine.objects.bulk_create(lines)
    recalculate(quote, lines)
    quote.save()
    write_audit(quote, actor, AuditAction.CREATE,
                creation_changes(quote, AUDITED))
    return quote


@transaction.atomic
def update_quote(actor: User, quote: Quote, data: dict[str, Any], version: Any) -> Quote:
    """Change the header fields given (a draft only)."""
    _require_editor(actor)
    quote = _locked(quote, version)
    _require_draft(quote)
    cleaned = _clean_header(actor, data, quote)
    before = snapshot(quote, AUDITED)
    for key, value in cleaned.items():
        setattr(quote, key, value)
    return _save_changed(actor, quote, diff(before, snapshot(quote, AUDITED)))


@transaction.atomic
def delete_quote(actor: User, quote: Quote) -> None:
    _require_editor(actor)
    _require_draft(quote)
    write_audit(quote, actor, AuditAction.DELETE, {"number": [str(quote), None]})
    quote.delete()


# ---------------------------------------------------------------- discount approval


def approval_needed(quote: Quote, actor: User) -> bool:
    """A line discounted above the company's threshold, no approval covering it, and an actor who is no
    approver."""
    return quote.pk in needing_approval([quote], actor)


def needing_approval(quotes: list[Quote], actor: User) -> set[int]:
    """The ids of those quotes that `actor` may not send without an approval (two queries at most)."""
    if is_approver(actor) or not quotes:
        return set()
    threshold = CompanyProfile.current().discount_threshold
    over = {q.pk: q.max_discount for q in quotes if q.max_discount > threshold}
    if not over:
        return set()
    approved: dict[int, Decimal] = {}
    for quote_id, allowed in QuoteApproval.objects.filter(quote_id__in=over, status=ApprovalStatus.APPROVED
                                                          ).values_list("quote_id", "max_discount"):
        approved[quote_id] = max(allowed, approved.get(quote_id, Decimal(0)))
    return {pk for pk, discount in over.items() if approved.get(pk, Decimal(-1)) < discount}


def _approvers_for(quote: Quote) -> list[User]:
    """Active managers whose team subtree holds the quote's team, and administrators."""
    managers = User.objects.filter(is_active=True).filter(Q(role__in=MANAGER_ROLES) | Q(role="admin"))
    return [u for u in managers.select_related("team")
            if u.role == "admin" or (quote.team_id and quote.team_id in u.visible_team_ids())]


@transaction.atomic
def request_approval(actor: User, quote: Quote, note: str = "") -> QuoteApproval:
    _require_editor(actor)
    quote = _locked(quote)
    _require_draft(quote)
    if not approval_needed(quote, actor):
        fail({"__all__": [_("This quote needs no approval.")]})
    if quote.approvals.filter(status=ApprovalStatus.PENDING).exists():
        fail({"__all__": [_("An approval request is waiting already.")]})
    approval = QuoteApproval.objects.create(quote=quote, max_discount=quote.max_discount, requested_by=actor,
                                            note=clean_text(note or "")[:500])
    write_audit(quote, actor, AuditAction.REQUEST, {"max_discount": [None, str(quote.max_discount)]})
    link = reverse("sales:quote_detail", args=[quote.pk])
    for user in _approvers_for(quote):
        notify(user, _("%(user)s asks to approve a %(discount)s %% discount on quote %(quote)s.")
               % {"user": actor, "discount": quote.max_discount.normalize(), "quote": quote}, link,
               key=f"quote-approval-{approval.pk}")
    return approval


@transaction.atomic
def decide_approval(actor: User, approval: QuoteApproval, approve: bool, reason: str = "") -> QuoteApproval:
    if not is_approver(actor):
        raise PermissionDenied(_("Only administrators and managers approve discounts."))
    approval = QuoteApproval.objects.select_for_update().get(pk=approval.pk)
    if not Quote.objects.visible_to(actor).filter(pk=approval.quote_id).exists():
        raise PermissionDenied(_("You may not see this quote."))
    if approval.status != ApprovalStatus.PENDING:
        fail({"status": [_("This request was decided already.")]})
    reason = clean_text(reason or "")[:500]
    if not approve and not reason:
        fail({"reason": [_("Say why the discount is refused.")]})
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by, approval.decided_at, approval.reason = actor, timezone.now(), reason
    approval.save()
    write_audit(approval.quote, actor, AuditAction.APPROVE if approve else AuditAction.REJECT,
                {"max_discount": [None, str(approval.max_discount)], "reason": [None, reason or None]})
    if approval.requested_by_id:
        notify(approval.requested_by, (_("Discount on quote %(quote)s approved.") if approve else
                                       _("Discount on quote %(quote)s refused.")) % {"quote": approval.quote},
               reverse("sales:quote_detail", args=[approval.quote_id]), key=f"quote-decision-{approval.pk}")
    return approval


# ---------------------------------------------------------------- send, revise, reject, accept


def _check_sendable(actor: User, quote: Quote, to: str) -> None:
    errors: dict[str, list[str]] = {}
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
        errors["status"] = [_("Only a draft or sent quote can be sent.")]
    if not quote.lines.exists():
        errors["lines"] = [_("Add at least one line before sending.")]
    if not to:
        errors["to"] = [_("The contact has no email address: enter one.")]
    if approval_needed(quote, actor):
        errors["discount"] = [_("A discount above %(threshold)s %% needs a manager's approval before sending.")
                              % {"threshold": CompanyProfile.current().discount_threshold.normalize()}]
    fail(errors)


def _recipient(quote: Quote, to: str | None, errors: dict) -> str:
    from django.core.validators import validate_email

    address = (to or "").strip() or (quote.contact.email if quote.contact and quote.contact.email else "")
    if address:
        try:
            validate_email(address)
        except ValidationError:
            errors["to"] = [_("Enter a valid email address.")]
    return address


@transaction.atomic
def send_quote(actor: User, quote: Quote, version: Any, to: str | None = None, message: str = "") -> Quote:
    """Email the PDF to the contact (or `to`) through the configured SMTP server and mark the quote sent.
    If the server refuses, nothing changes."""
    from .quote_pdf import quote_pdf

    _require_editor(actor)
    quote = _locked(quote, version)
    errors: dict[str, list[str]] = {}
    address = _recipient(quote, to, errors)
    fail(errors)
    _check_sendable(actor, quote, address)
    before = snapshot(quote, AUDITED)
    quote.status = QuoteStatus.SENT
    quote.sent_at = timezone.now()
    profile = CompanyProfile.current()
    subject = _("Quote %(number)s from %(company)s") % {"number": quote, "company": profile.name or "Guanxi"}
    body = clean_text(message or "") or _("Please find our quote %(number)s attached.") % {"number": quote}
    email = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address],
                         reply_to=[actor.email] if actor.email else None)
    email.attach(f"{quote.number}-v{quote.revision}.pdf", quote_pdf(quote), "application/pdf")
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationError({"to": [_("The mail server did not accept the message: %(error)s")
                                      % {"error": str(exc)[:200]}]}) from exc
    changes = diff(before, snapshot(quote, AUDITED))
    changes["sent_to"] = [None, address]
    return _save_changed(actor, quote, changes)


def _copy_lines(source: list, target_model: type, **fk: Any) -> None:
    target_model.objects.bulk_create([target_model(**fk, **{k: getattr(ln, k) for k in LINE_COPY})
                                      for ln in source])


@transaction.atomic
def revise_quote(actor: User, quote: Quote, version: Any) -> Quote:
    """A new draft version (revision n+1) with the same number and a copy of the lines; the earlier one stays
    readable, marked superseded."""
    _require_editor(actor)
    quote = _locked(quote, version)
    if quote.status not in (QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED):
        fail({"status": [_("Only a sent, rejected or expired quote can be revised.")]})
    if Quote.objects.filter(previous=quote).exists():
        fail({"status": [_("This quote has a newer version already.")]})
    before = snapshot(quote, AUDITED)
    quote.status = QuoteStatus.SUPERSEDED
    _save_changed(actor, quote, diff(before, snapshot(quote, AUDITED)))
    new = Quote.objects.get(pk=quote.pk)
    new.pk = None
    new.previous, new.revision, new.version = quote, quote.revision + 1, 1
    new.status, new.sent_at, new.decided_at = QuoteStatus.DRAFT, None, None
    new.set_owner(actor if quote.owner_id is None else quote.owner)
    profile = CompanyProfile.current()
    new.valid_until = timezone.localdate() + dt.timedelta(days=profile.quote_valid_days)
    new.save()
    _copy_lines(list(quote.lines.all()), QuoteLine, quote=new)
    write_audit(new, actor, AuditAction.CREATE, {"revision": [quote.revision, new.revision]})
    return new


@transaction.atomic
def reject_quote(actor: User, quote: Quote, version: Any, reason: str = "") -> Quote:
    """The customer declined."""
    _require_editor(actor)
    quote = _locked(quote, version)
    if quote.status != QuoteStatus.SENT:
        fail({"status": [_("Only a sent quote can be accepted or rejected.")]})
    before = snapshot(quote, AUDITED)
    quote.status, quote.decided_at = QuoteStatus.REJECTED, timezone.now()
    changes = diff(before, snapshot(quote, AUDITED))
    if reason:
        changes["reason"] = [None, clean_text(reason)[:500]]
    return _save_changed(actor, quote, changes)


@transaction.atomic
def accept_quote(actor: User, quote: Quote, version: Any, mark_won: bool = False) -> Order:
    """Record the customer's acceptance: the quote becomes a confirmed order with a copy of its lines; with
    `mark_won` the opportunity moves to its pipeline's won stage (the board's rules apply)."""
    from . import services

    _require_editor(actor)
    quote = _locked(quote, version)
    if quote.status != QuoteStatus.SENT:
        fail({"status": [_("Only a sent quote can be accepted or rejected.")]})
    before = snapshot(quote, AUDITED)
    quote.status, quote.decided_at = QuoteStatus.ACCEPTED, timezone.now()
    _save_changed(actor, quote, diff(before, snapshot(quote, AUDITED)))
    order = Order(number=next_number("SO"), quote=quote, opportunity=quote.opportunity, account=quote.account,
                  contact=quote.contact, currency=quote.currency, status=OrderStatus.CONFIRMED,
                  ordered_on=timezone.localdate(), net_total=quote.net_total, tax_total=quote.tax_total,
                  gross_total=quote.gross_total)
    order.set_owner(quote.owner or actor)
    order.save()
    _copy_lines(list(quote.lines.all()), OrderLine, order=order)
    write_audit(order, actor, AuditAction.CREATE, {"quote": [None, str(quote)],
                                                   "gross_total": [None, str(order.gross_total)],
                                                   "currency": [None, order.currency]})
    if mark_won and quote.opportunity_id:
        opp = Opportunity.objects.select_related("pipeline").get(pk=quote.opportunity_id)
        won = opp.pipeline.stages.filter(kind=StageKind.WON).order_by("position").first()
        if opp.status != StageKind.WON:
            try:
                if won is None:
                    fail({"stage_id": [_("This pipeline has no won stage.")]})
                services.move_stage(actor, opp, won.pk, opp.version)
            except ValidationError as exc:
                raise ValidationError({"mark_won": [m for ms in exc.message_dict.values() for m in ms]}) from exc
    return order


def expire_quotes(today: dt.date) -> int:
    """Sent quotes past their validity become expired (run by the minute sweep; idempotent)."""
    done = 0
    for pk in Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().filter(pk=pk, status=QuoteStatus.SENT).first()
            if quote is not None:
                quote.status = QuoteStatus.EXPIRED
                _save_changed(None, quote, {"status": [QuoteStatus.SENT, QuoteStatus.EXPIRED]})
                done += 1
    return done
