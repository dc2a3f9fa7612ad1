"""Quote and order pages: the list, the new-quote form, the quote page (the line editor while a draft, its
status actions, versions and the PDF), and orders. Lines are added, changed and removed with htmx; the
server recalculates and returns the lines table with the totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.paging import Page, paginate
from guanxi.core.records import EditConflict, audit_trail
from guanxi.core.ui import ChangeDescriber, clean_param, clean_params, flash_errors, htmx_target, is_htmx
from guanxi.customers.models import Account, Contact

from . import quote_services as qs
from .catalog_views import search_products
from .models import Opportunity
from .quote_forms import LineForm, QuoteForm
from .quote_models import ApprovalStatus, Order, Quote, QuoteApproval, QuoteStatus
from .quote_pdf import quote_pdf
from .services import validation_messages

PAGE_SIZE = 50
QUOTE_SORTS = ["-updated_at", "updated_at", "number", "-number", "-gross_total", "gross_total"]
ORDER_SORTS = ["-updated_at", "updated_at", "number", "-number", "-gross_total"]
LIST_RELATED = ("account", "owner")


def _visible(request: HttpRequest, pk: int) -> Quote:
    return get_object_or_404(Quote.objects.visible_to(request.user), pk=pk)


def _page(request: HttpRequest, qs_: Any, allowed: list[str]) -> tuple[Page, Any]:
    params = clean_params(request.GET)
    try:
        page = paginate(qs_, sort=params.get("sort") or allowed[0], allowed=allowed,
                        cursor=params.get("cursor") or None, limit=PAGE_SIZE)
    except ValidationError as exc:
        flash_errors(request, exc)
        page = Page(items=[], next_cursor=None, sort=allowed[0])
    return page, params


@login_required
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    quotes = Quote.objects.visible_to(request.user).select_related(*LIST_RELATED)
    status = clean_param(request.GET.get("status"), 20)
    if status in QuoteStatus.values:
        quotes = quotes.filter(status=status)
    if request.GET.get("account", "").isdigit():
        quotes = quotes.filter(account_id=int(request.GET["account"]))
    number = clean_param(request.GET.get("q"), 30)
    if number:
        quotes = quotes.filter(number__icontains=number)
    page, params = _page(request, quotes, QUOTE_SORTS)
    context = {"page": page, "rows": page.items, "is_first_page": not params.get("cursor"), "params": params,
               "statuses": QuoteStatus.choices}
    template = "sales/_quote_table.html" if htmx_target(request) == "results" else "sales/quote_list.html"
    return render(request, template, context)


def _form_choices(user: Any, account: Account | None, opportunity: Opportunity | None = None) -> dict[str, Any]:
    """The pickers' choices: open opportunities, plus `opportunity` (the one the quote is for or was opened
    from) even when it is won or lost, so a quote made after the win stays linked to its deal."""
    accounts = Account.objects.visible_to(user).order_by("-updated_at", "pk")[:200]
    opportunities = Opportunity.objects.visible_to(user).filter(status="open").select_related("account")
    contacts = Contact.objects.none()
    if account is not None:
        opportunities = opportunities.filter(account=account)
        contacts = Contact.objects.visible_to(user).filter(accounts=account).order_by("name")[:200]
    listed = list(opportunities.order_by("-updated_at")[:200])
    if opportunity is not None and opportunity not in listed:
        listed.append(opportunity)
    return {"accounts": list(accounts) + ([account] if account and account not in accounts else []),
            "opportunities": listed, "contacts": contacts}


@login_required
def quote_create(request: HttpRequest) -> HttpResponse:
    """A draft from an account or an opportunity (?opportunity= or ?account= preselects); then the editor."""
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    account = None
    opportunity = None
    if str(source.get("opportunity_id") or source.get("opportunity") or "").isdigit():
        opportunity = Opportunity.objects.visible_to(user).filter(
            pk=int(source.get("opportunity_id") or source.get("opportunity"))).first()
        account = opportunity.account if opportunity else None
    if account is None and str(source.get("account_id") or source.get("account") or "").isdigit():
        account = Account.objects.visible_to(user).filter(
            pk=int(source.get("account_id") or source.get("account"))).first()
    if request.method == "POST":
        form = QuoteForm(request.POST, **_form_choices(user, account, opportunity))
        if form.is_valid():
            try:
                quote = qs.create_quote(user, form.to_data())
                return redirect("sales:quote_detail", quote.pk)
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
    else:
        initial = {"account_id": account.pk if account else "", "opportunity_id": opportunity.pk if opportunity
                   else "", "contact_id": opportunity.contact_id if opportunity else ""}
        form = QuoteForm(initial=initial, **_form_choices(user, account, opportunity))
    return render(request, "sales/quote_form.html", {"form": form, "obj": None, "account": account})


@login_required
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The header of a draft: title, contact, validity, price list, terms."""
    quote = _visible(request, pk)
    choices = _form_choices(request.user, quote.account, quote.opportunity)
    if request.method == "POST":
        form = QuoteForm(request.POST, **choices)
        if form.is_valid():
            try:
                data = form.to_data()
                data.setdefault("contact_id", None)
                qs.update_quote(request.user, quote, data, form.cleaned_data.get("version"))
                return redirect("sales:quote_detail", quote.pk)
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
            except EditConflict:
                form.add_error(None, _("Someone changed this quote meanwhile; reload it and apply your change "
                                       "again."))
    else:
        initial = {f: getattr(quote, f) for f in ("title", "valid_until", "terms", "notes", "currency",
                                                  "account_id", "opportunity_id", "contact_id", "price_list_id",
                                                  "version")}
        form = QuoteForm(initial=initial, **choices)
    return render(request, "sales/quote_form.html", {"form": form, "obj": quote, "account": quote.account})


def _detail_context(request: HttpRequest, quote: Quote) -> dict[str, Any]:
    user = request.user
    versions = Quote.objects.visible_to(user).filter(number=quote.number).order_by("-revision")
    entries = list(audit_trail(quote)[:100])
    can_edit = user.can_edit and Quote.objects.editable_by(user).filter(pk=quote.pk).exists()
    return {
        "obj": quote, "lines": quote.lines.select_related("product"), "versions": versions,
        "approvals": quote.approvals.select_related("requested_by", "decided_by"),
        "pending": quote.approvals.filter(status=ApprovalStatus.PENDING).first(),
        "approval_needed": qs.approval_needed(quote, user), "is_approver": qs.is_approver(user),
        "can_edit": can_edit, "line_form": LineForm(),
        "order": Order.objects.filter(quote=quote).first(),
        "audit": list(zip(entries, ChangeDescriber(Quote, user).describe([e.changes for e in entries]),
                          strict=True)),
    }


@login_required
@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = get_object_or_404(Quote.objects.visible_to(request.user).select_related(
        "account", "contact", "opportunity", "price_list", "owner"), pk=pk)
    return render(request, "sales/quote_detail.html", _detail_context(request, quote))


def _lines_response(request: HttpRequest, quote: Quote, errors: dict[str, list[str]] | None = None,
                    form: LineForm | None = None) -> HttpResponse:
    quote = Quote.objects.select_related("price_list").get(pk=quote.pk)
    response = render(request, "sales/_quote_lines.html", {
        "obj": quote, "lines": quote.lines.select_related("product"), "can_edit": True,
        "line_form": form or LineForm(), "line_errors": [m for ms in (errors or {}).values() for m in ms],
        "oob": True})
    response["HX-Trigger"] = "quote-lines-changed"  # the cross-sell card asks again for the new lines
    return response


def _line_action(request: HttpRequest, pk: int, action: Callable[[Quote, dict[str, Any]], Any]) -> HttpResponse:
    """Run a line change; htmx gets the recalculated lines table (with the errors), a plain POST the page."""
    if not request.user.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    quote = _visible(request, pk)
    form = LineForm(request.POST)
    form.is_valid()
    errors: dict[str, list[str]] = {}
    try:
        action(quote, form.to_data())
        form = None
    except ValidationError as exc:
        errors = validation_messages(exc)
    except EditConflict:
        errors = {"version": [_("Someone changed this quote meanwhile; the lines below are the current ones.")]}
    if is_htmx(request):
        return _lines_response(request, quote, errors, form)
    for messages_ in errors.values():
        for message in messages_:
            messages.error(request, message)
    return redirect("sales:quote_detail", pk)


@login_required
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_action(request, pk, lambda q, data: qs.add_lines(request.user, q, [data], request.POST.get(
        "version")))


@login_required
@require_POST
def line_update(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    return _line_action(request, pk, lambda q, data: qs.update_line(request.user, q, line_id, data,
                                                                    request.POST.get("version")))


@login_required
@require_POST
def line_remove(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    return _line_action(request, pk, lambda q, data: qs.remove_line(request.user, q, line_id,
                                                                    request.POST.get("version")))


@login_required
@require_GET
def product_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """Products matching what was typed, each with its price in the quote's price list (htmx)."""
    from .catalog_models import Product

    quote = _visible(request, pk)
    query = clean_param(request.GET.get("product_q"), 100)
    products = list(search_products(Product.objects.filter(active=True), query).order_by("name", "pk")[:10])
    prices = {}
    if quote.price_list_id:
        for item in quote.price_list.items.filter(product__in=products, min_quantity__lte=1):
            prices[item.product_id] = item.unit_price
    rows = [(p, prices.get(p.pk)) for p in products]
    return render(request, "sales/_product_pick.html", {"rows": rows, "obj": quote, "query": query})


@login_required
@require_GET
def quote_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _visible(request, pk)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


def _status_action(request: HttpRequest, pk: int, run: Callable[[Quote], Any], done: str) -> HttpResponse:
    """A status button: run the service, say what happened (or why not), back to the quote (or what it made)."""
    quote = _visible(request, pk)
    try:
        result = run(quote)
        messages.success(request, done)
        if isinstance(result, Quote) and result.pk != quote.pk:
            return redirect("sales:quote_detail", result.pk)
        if isinstance(result, Order):
            return redirect("sales:order_detail", result.pk)
    except ValidationError as exc:
        flash_errors(request, exc)
    except EditConflict:
        messages.error(request, _("Someone changed this quote meanwhile; nothing was changed."))
    return redirect("sales:quote_detail", quote.pk)


@login_required
@require_POST
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _status_action(request, pk, lambda q: qs.send_quote(
        request.user, q, post.get("version"), clean_param(post.get("to"), 254), post.get("message", "")[:5000]),
        _("The quote was sent."))


@login_required
@require_POST
def quote_revise(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, lambda q: qs.revise_quote(request.user, q, request.POST.get("version")),
                          _("A new version was made; edit it and send it."))


@login_required
@require_POST
def quote_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, lambda q: qs.reject_quote(
        request.user, q, request.POST.get("version"), clean_param(request.POST.get("reason"), 500)),
        _("Recorded: the customer declined."))


@login_required
@require_POST
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, lambda q: qs.accept_quote(
        request.user, q, request.POST.get("version"), bool(request.POST.get("mark_won"))),
        _("Accepted: the order was created."))


@login_required
@require_POST
def quote_request_approval(request: HttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, lambda q: qs.request_approval(
        request.user, q, clean_param(request.POST.get("note"), 500)), _("Approval requested."))


@login_required
@require_POST
def approval_decide(request: HttpRequest, pk: int, approval_id: int) -> HttpResponse:
    approval = get_object_or_404(QuoteApproval, pk=approval_id, quote_id=pk)
    approve = request.POST.get("decision") == "approve"
    return _status_action(request, pk, lambda q: qs.decide_approval(
        request.user, approval, approve, clean_param(request.POST.get("reason"), 500)),
        _("Discount approved.") if approve else _("Discount refused."))


@login_required
@require_POST
def quote_delete(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _visible(request, pk)
    try:
        qs.delete_quote(request.user, quote)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("sales:quote_detail", pk)
    return redirect("sales:quote_list")


# ---------------------------------------------------------------- orders


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    orders = Order.objects.visible_to(request.user).select_related(*LIST_RELATED)
    page, params = _page(request, orders, ORDER_SORTS)
    context = {"page": page, "rows": page.items, "is_first_page": not params.get("cursor"), "params": params}
    template = "sales/_order_table.html" if htmx_target(request) == "results" else "sales/order_list.html"
    return render(request, template, context)


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.visible_to(request.user).select_related(
        "account", "contact", "quote", "owner", "opportunity"), pk=pk)
    from .payment_views import order_context

    can_edit = request.user.can_edit and Order.objects.editable_by(request.user).filter(pk=order.pk).exists()
    return render(request, "sales/order_detail.html", {"obj": order, "can_edit": can_edit, **order_context(order)})

