"""Web forms in the UI: the list and the builder (administrators), a form's page with its preview, embed snippets
and spam/flood counts, and its submissions (anyone signed in, each shown only to who may see the lead or ticket
it created)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.models import User
from guanxi.core.paging import paginate
from guanxi.core.ui import clean_param
from guanxi.service.models import QuestionGroup, Queue

from . import form_services
from . import form_submit as fs
from .email_models import Mailbox
from .form_models import FieldKind, FormKind, WebForm

FIELD_ATTRS = ("key", "label_zh", "label_en", "type", "required", "target", "choices")
SETTINGS = ("name", "title_zh", "title_en", "consent_text_zh", "consent_text_en", "success_message", "redirect_url",
            "allowed_origins", "queue_id", "question_group_id", "lead_owner_id", "actor_id", "ack_mailbox_id",
            "ack_subject", "ack_body")
PAGE_SIZE = 50


def fields_from_post(post: QueryDict) -> list[dict]:
    """The builder's rows (parallel lists field-key, field-label_zh …, in the order shown)."""
    columns = {a: post.getlist(f"field-{a}") for a in FIELD_ATTRS}
    rows = max((len(v) for v in columns.values()), default=0)
    return [{a: (columns[a][i] if i < len(columns[a]) else "") for a in FIELD_ATTRS} for i in range(rows)]


def _values(form: WebForm | None, kind: str) -> dict:
    if form is None:
        return {"name": "", "kind": kind, "fields": [], "consent_enabled": False, "active": True,
                "allowed_origins": ""}
    values = {name: getattr(form, name) for name in SETTINGS if name != "allowed_origins"}
    values.update(kind=form.kind, fields=[{**f, "choices": "\n".join(f["choices"])} for f in form.fields],
                  consent_enabled=form.consent_enabled, active=form.active,
                  allowed_origins="\n".join(form.allowed_origins))
    return values


@login_required
@require_GET
def form_list(request: HttpRequest) -> HttpResponse:
    form_services.require_admin(request.user)
    forms = WebForm.objects.annotate(submission_count=Count("submissions")).order_by("name", "id")
    return render(request, "contact_center/forms/list.html", {"forms": forms})


@login_required
def form_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    form_services.require_admin(request.user)
    form = get_object_or_404(WebForm, pk=pk) if pk else None
    kind = form.kind if form else (request.GET.get("kind") if request.GET.get("kind") in FormKind.values
                                   else FormKind.TICKET)
    values, errors = _values(form, kind), {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in SETTINGS}
        values.update(kind=request.POST.get("kind", kind), fields=fields_from_post(request.POST),
                      consent_enabled=request.POST.get("consent_enabled") == "on",
                      active=request.POST.get("active") == "on")
        try:
            form = form_services.save_form(request.user, form, values)
            messages.success(request, _("Saved the web form %(name)s.") % {"name": form.name})
            return redirect("contact_center:webform_detail", form.pk)
        except ValidationError as exc:
            errors = exc.message_dict
        kind = values["kind"] if values["kind"] in FormKind.values else kind
    field_errors = [{k.split(".")[-1]: v for k, v in errors.items() if k.startswith(f"fields.{i}.")}
                    for i in range(len(values["fields"]))]
    context = {"form": form, "values": values, "errors": errors, "kind": kind, "kinds": FormKind.choices,
               "rows": list(zip(values["fields"], field_errors, strict=True)), "types": FieldKind.choices,
               "targets": form_services.targets(kind), "queues": Queue.objects.all(),
               "groups": QuestionGroup.objects.filter(active=True),
               "users": User.objects.filter(is_active=True).order_by("username")[:500],
               "mailboxes": Mailbox.objects.filter(active=True)}
    return render(request, "contact_center/forms/edit.html", context, status=400 if errors else 200)


def embed_snippets(request: HttpRequest, form: WebForm) -> dict[str, str]:
    base = request.build_absolute_uri("/").rstrip("/")
    url = base + reverse("contact_center:webform_public", args=[form.public_key])
    fields = [{**f, "label": fs.field_label(f)} for f in form.fields]
    html = render_to_string("contact_center/forms/snippet.html", {
        "form": form, "url": url, "token_url": base + reverse("contact_center:webform_token", args=[form.public_key]),
        "fields": fields, "honeypot": fs.HONEYPOT})
    iframe = format_html('<iframe src="{}" title="{}" style="width:100%;min-height:640px;border:0"></iframe>', url,
                         form.name)
    return {"url": url, "iframe": iframe, "html": html.strip()}


@login_required
@require_GET
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    form_services.require_admin(request.user)
    form = get_object_or_404(WebForm.objects.select_related("actor", "queue", "question_group", "ack_mailbox"), pk=pk)
    context = {"form": form, "snippets": embed_snippets(request, form), "targets": form_services.targets(form.kind),
               "submission_count": form.submissions.count()}
    return render(request, "contact_center/forms/detail.html", context)


@login_required
@require_POST
def form_delete(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(WebForm, pk=pk)
    form_services.delete_form(request.user, form)
    messages.success(request, _("Deleted the web form %(name)s.") % {"name": form.name})
    return redirect("contact_center:webform_list")


@login_required
@require_GET
def form_submissions(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(WebForm, pk=pk)
    rows = form_services.submissions_for(request.user, form)
    try:
        page = paginate(rows, sort="-created_at", allowed=form_services.SUBMISSION_SORTS,
                        cursor=clean_param(request.GET.get("cursor")) or None, limit=PAGE_SIZE)
    except ValidationError:  # a stale or forged page link: the first page
        page = paginate(rows, sort="-created_at", allowed=form_services.SUBMISSION_SORTS, limit=PAGE_SIZE)
    labels = {f["key"]: fs.field_label(f) for f in form.fields}
    items = [(s, [(labels.get(k, k), v) for k, v in s.data.items()]) for s in page.items]
    return render(request, "contact_center/forms/submissions.html", {
        "form": form, "rows": items, "next": page.next_cursor, "is_admin": request.user.is_administrator})
