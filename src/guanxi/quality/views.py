"""Duplicates pages: the review queue, the side-by-side compare with Merge and Dismiss, a merge and its undo,
the scan button, and the on-entry fragment the account and contact forms load as the user types."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.models import JobProgress
from guanxi.core.paging import paginate
from guanxi.core.records import EditConflict
from guanxi.core.ui import ChangeDescriber, clean_param, is_htmx
from guanxi.customers.models import Address, ContactMethod

from . import jobs, services
from .models import DuplicatePair, Merge, PairStatus, RecordKind

PAGE_SIZE = 50
# Which comparison level (scan field) speaks for which choosable field.
LEVEL_OF = {"name": "name", "phone": "phone", "email": "email", "birthday": "birthday",
            "primary_account_id": "company", "website": "website"}


def _kind_param(value: str | None) -> str:
    return value if value in services.MODELS else RecordKind.CONTACT


def _record_url(kind: str, pk: int) -> str:
    return reverse(f"customers:{kind}_detail", args=[pk])


def _messages_of(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for ms in exc.message_dict.values() for m in ms]
    return list(exc.messages)


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    kind = _kind_param(request.GET.get("kind"))
    status = request.GET.get("status") if request.GET.get("status") in PairStatus.values else PairStatus.OPEN
    pairs = services.visible_pairs(request.user, kind, status)
    try:
        page = paginate(pairs, sort="-score", allowed=["-score"], cursor=clean_param(request.GET.get("cursor")),
                        limit=PAGE_SIZE)
    except ValidationError:
        page = paginate(pairs, sort="-score", allowed=["-score"], limit=PAGE_SIZE)
    records = services.records_of(page.items)
    rows = [{"pair": p, "first": records.get((p.kind, p.record_1)), "second": records.get((p.kind, p.record_2))}
            for p in page.items]
    context = {
        "rows": rows, "kind": kind, "status": status, "next_cursor": page.next_cursor,
        "kinds": RecordKind.choices, "statuses": PairStatus.choices,
        "jobs": list(JobProgress.objects.filter(kind__startswith=jobs.SCAN).select_related("user")[:3])
        if request.user.is_administrator else [],
    }
    return render(request, "quality/duplicate_list.html", context)


@login_required
@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    kind = _kind_param(request.POST.get("kind"))
    job = jobs.start_scan(request.user, kind)
    if is_htmx(request):
        return render(request, "core/_job_list.html", {"jobs": [job]})
    messages.info(request, _("The scan for duplicates has started; its progress shows on this page."))
    return redirect(f"{reverse('quality:duplicate_list')}?kind={kind}")


def _pair_or_404(request: HttpRequest, pk: int) -> DuplicatePair:
    try:
        return services.visible_pair(request.user, pk)
    except DuplicatePair.DoesNotExist:
        raise Http404


def _compare_rows(request: HttpRequest, pair: DuplicatePair, first, second, chosen: dict[str, str]) -> list[dict]:
    model = services.MODELS[pair.kind]
    names = services.choice_fields(pair.kind, first, second)
    change = {name: [services.field_value(first, name), services.field_value(second, name)] for name in names}
    described = ChangeDescriber(model, request.user).describe([change])[0]
    by_field = {row.field: row for row in described}
    rows = []
    for name in names:
        row = by_field[name]
        level = pair.levels.get(LEVEL_OF.get(name, ""), "")
        rows.append({"name": name, "label": row.label, "first": row.old, "second": row.new, "level": level,
                     "differs": row.old != row.new, "choice": chosen.get(name, "1")})
    return rows


def _combined(kind: str, obj) -> dict[str, Any]:
    """What a merge adds up rather than chooses: phones, emails, addresses, tags, companies."""
    out: dict[str, Any] = {"tags": [t.name for t in obj.tags.all()],
                           "addresses": [str(a) for a in Address.objects.filter(**{kind: obj}).order_by("id")]}
    if kind == RecordKind.CONTACT:
        methods = list(ContactMethod.objects.filter(contact=obj))
        out["phones"] = [m.normalized for m in methods if m.kind == "phone"]
        out["emails"] = [m.normalized for m in methods if m.kind == "email"]
        out["accounts"] = [a.name for a in obj.accounts.all()]
    return out


@login_required
def duplicate_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Both records side by side; POST merges (with the chosen values) or dismisses the pair."""
    pair = _pair_or_404(request, pk)
    records = services.records_of([pair])
    first, second = records[(pair.kind, pair.record_1)], records[(pair.kind, pair.record_2)]
    defaults = services.default_choices(pair.kind, first, second)
    chosen = {name: "1" if side == services.SURVIVOR else "2" for name, side in defaults.items()}
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "dismiss":
                services.dismiss_pair(request.user, pair)
                messages.success(request, _("Marked as not duplicates."))
                return redirect(f"{reverse('quality:duplicate_list')}?kind={pair.kind}")
            merge = _merge_from_post(request, pair, first, second, chosen)
            messages.success(request, _("Merged “%(merged)s” into “%(survivor)s”.")
                             % {"merged": merge.merged_repr, "survivor": first if merge.survivor_id == first.pk
                                else second})
            return redirect("quality:merge_detail", merge.pk)
        except EditConflict:
            errors.append(_("One of the records was changed while you were comparing them; nothing was merged. "
                            "Here are the current values — check your choices and merge again."))
            status = 409
            records = services.records_of([pair])
            first, second = records[(pair.kind, pair.record_1)], records[(pair.kind, pair.record_2)]
        except ValidationError as exc:
            errors.extend(_messages_of(exc))
            status = 400
        except services.MODELS[pair.kind].DoesNotExist:
            raise Http404
    survivor_side = request.POST.get("survivor", "1") if request.method == "POST" else "1"
    context = {
        "pair": pair, "first": first, "second": second, "errors": errors, "survivor_side": survivor_side,
        "rows": _compare_rows(request, pair, first, second, chosen),
        "combined": [_combined(pair.kind, first), _combined(pair.kind, second)],
        "can_merge": request.user.can_edit and pair.status == PairStatus.OPEN,
        "merges": list(Merge.objects.filter(pair=pair, undone_at__isnull=True)[:1]),
    }
    return render(request, "quality/duplicate_compare.html", context, status=status)


def _merge_from_post(request: HttpRequest, pair: DuplicatePair, first, second, chosen: dict[str, str]) -> Merge:
    """Form values → the merge service: `survivor` is "1" or "2", `choice.<field>` "1" or "2" (whose value)."""
    survivor_side = request.POST.get("survivor", "1")
    if survivor_side not in ("1", "2"):
        raise ValidationError({"survivor": [_("Choose the record that stays.")]})
    for name in chosen:
        value = request.POST.get(f"choice.{name}")
        if value in ("1", "2"):
            chosen[name] = value
    keep, gone = (first, second) if survivor_side == "1" else (second, first)
    choices = {name: services.SURVIVOR if side == survivor_side else services.MERGED for name, side in chosen.items()}
    versions = {"1": request.POST.get("version_1"), "2": request.POST.get("version_2")}
    other = "2" if survivor_side == "1" else "1"
    return services.merge_records(request.user, pair.kind, keep.pk, gone.pk, choices=choices,
                                  survivor_version=versions[survivor_side], merged_version=versions[other])


def _merge_or_404(request: HttpRequest, pk: int) -> Merge:
    try:
        return services.merge_for(request.user, pk)
    except Merge.DoesNotExist:
        raise Http404


@login_required
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    merge = _merge_or_404(request, pk)
    survivor = services.MODELS[merge.kind].objects.visible_to(request.user).filter(pk=merge.survivor_id).first()
    return render(request, "quality/merge_detail.html", {
        "merge": merge, "survivor": survivor, "survivor_url": _record_url(merge.kind, merge.survivor_id),
        "moved": sum(len(e["ids"]) for e in merge.relinked), "removed": len(merge.removed),
    })


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = _merge_or_404(request, pk)
    try:
        restored = services.undo_merge(request.user, merge)
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
        return redirect("quality:merge_detail", merge.pk)
    messages.success(request, _("Merge undone: “%(name)s” is back.") % {"name": restored})
    return redirect(_record_url(merge.kind, restored.pk))


@login_required
@require_GET
def possible_duplicates(request: HttpRequest, kind: str) -> HttpResponse:
    """The fragment under the account/contact form: up to 5 visible records the one being typed may repeat."""
    if kind not in services.MODELS:
        raise Http404
    get = request.GET
    exclude = get.get("exclude", "")
    phones = get.get("phones", "") or get.get("phone", "")
    emails = get.get("emails", "") or get.get("email", "")
    found = services.possible_duplicates(
        request.user, kind, name=clean_param(get.get("name")), phones=clean_param(phones, 1000),
        emails=clean_param(emails, 1000), account=[clean_param(a) for a in get.getlist("account_ids")][:5],
        exclude=int(exclude) if exclude.isdecimal() and int(exclude) < 2**63 else None)
    return render(request, "quality/_possible_duplicates.html",
                  {"found": found, "kind": kind, "detail": f"customers:{kind}_detail"})
