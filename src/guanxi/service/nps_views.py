"""NPS survey pages (Service ▾ NPS surveys): the surveys with the form that sends a new one (service managers and
administrators), a survey's results and answers (keyset pages, CSV) over the contacts the user may see, and the
customer's answer page, reached by the signed link in the e-mail without logging in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.paging import Page
from guanxi.core.services import visible_users
from guanxi.core.ui import clean_param, clean_params, htmx_target
from guanxi.customers.fileio import csv_chunks
from guanxi.customers.models import Classification
from guanxi.customers.services import validation_messages
from guanxi.portal.ui import errors_of, page

from . import nps, nps_services
from .nps_models import Category, NpsSurvey

PAGE_SIZE = 50
FIELDS = ("name", "classification", "account_owner_id", "language")


def _messages(exc: ValidationError) -> list[str]:
    return [m for ms in validation_messages(exc).values() for m in ms]


def _survey_list(request: HttpRequest, form: dict[str, Any] | None = None,
                 form_errors: dict[str, list[str]] | None = None) -> HttpResponse:
    user = request.user
    params = clean_params(request.GET)
    errors: list[str] = []
    try:
        surveys = nps_services.surveys_page(user, sort=params.get("sort") or "-created_at",
                                            cursor=params.get("cursor") or None, limit=PAGE_SIZE)
    except ValidationError as exc:
        errors = _messages(exc)
        surveys = nps_services.surveys_page(user, limit=PAGE_SIZE)
    context: dict[str, Any] = {"page": surveys, "rows": surveys.items, "is_first_page": not params.get("cursor"),
                               "errors": errors}
    if htmx_target(request) == "results":
        return render(request, "service/_nps_surveys.html", context)
    context.update({
        "may_send": nps_services.may_send(user), "form": form or {"language": settings.LANGUAGE_CODE},
        "form_errors": form_errors or {}, "classifications": Classification.choices,
        "owners": visible_users(user).order_by("username"), "languages": settings.LANGUAGES,
        "question": nps_services.QUESTION, "reason_question": nps_services.REASON_QUESTION,
        "quiet_days": settings.NPS_QUIET_DAYS,
    })
    return render(request, "service/nps_list.html", context, status=400 if errors or form_errors else 200)


@login_required
@require_GET
def nps_list(request: HttpRequest) -> HttpResponse:
    return _survey_list(request)


@login_required
@require_POST
def nps_create(request: HttpRequest) -> HttpResponse:
    """Send a new survey; bad input re-shows the form with the fields named (400)."""
    data = {key: clean_param(request.POST.get(key), 300) for key in FIELDS}
    try:
        survey = nps_services.send_survey(request.user, data)
    except ValidationError as exc:
        return _survey_list(request, data, validation_messages(exc))
    messages.success(request, _("The survey “%(name)s” is being sent.") % {"name": survey.name})
    return redirect("service:nps_detail", survey.pk)


@login_required
@require_GET
def nps_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    survey = get_object_or_404(NpsSurvey.objects.select_related("created_by", "account_owner", "job__user"), pk=pk)
    params = clean_params(request.GET)
    errors: list[str] = []
    try:
        answers = nps_services.answers_page(user, survey, category=params.get("category") or None,
                                            sort=params.get("sort") or "-at", cursor=params.get("cursor") or None,
                                            limit=PAGE_SIZE)
    except ValidationError as exc:
        errors = _messages(exc)
        answers = Page(items=[], next_cursor=None, sort="-at")
    context: dict[str, Any] = {"survey": survey, "page": answers, "rows": answers.items,
                               "is_first_page": not params.get("cursor"), "errors": errors}
    if htmx_target(request) == "results":
        return render(request, "service/_nps_answers.html", context, status=400 if errors else 200)
    job = survey.job
    context.update({
        "results": nps_services.results(user, survey), "categories": Category.choices,
        "category": params.get("category", ""), "question": nps_services.QUESTION,
        "job": job if job is not None and (user.is_administrator or job.user_id == user.pk) else None,
    })
    return render(request, "service/nps_detail.html", context, status=400 if errors else 200)


@login_required
@require_GET
def nps_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The answers the user may see (optionally one `category`), as CSV."""
    survey = get_object_or_404(NpsSurvey, pk=pk)
    category = clean_param(request.GET.get("category"), 20) or None
    try:
        nps_services.answers(request.user, survey, category)
    except ValidationError as exc:
        return HttpResponse("\n".join(f"{field}: {' '.join(msgs)}" for field, msgs in validation_messages(exc).items()),
                            status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(csv_chunks(nps_services.CSV_HEADERS,
                                                nps_services.csv_rows(request.user, survey, category)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="nps-survey-{survey.pk}.csv"'
    return response


@require_http_methods(["GET", "POST"])
def nps_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: 0–10 and the main reason, once. A bad or expired link is a 400 page saying so."""
    template = "service/nps_answer.html"
    try:
        invitation = nps_services.invitation_for_token(token)
    except ValidationError as exc:
        return page(request, template, {"refused": " ".join(errors_of(exc).get("token", []))}, status=400)
    answer = nps_services.answer_of(invitation)
    errors: dict[str, list[str]] = {}
    reason = request.POST.get("reason", "")
    if request.method == "POST":
        try:
            answer = nps_services.answer(invitation, request.POST.get("score"), reason)
            return page(request, template, {"invitation": invitation, "answer": answer, "thanks": True})
        except ValidationError as exc:
            errors = errors_of(exc)
    return page(request, template, {
        "invitation": invitation, "answer": answer, "errors": errors, "reason": reason,
        "scores": range(nps.MIN_SCORE, nps.MAX_SCORE + 1), "chosen": request.POST.get("score", ""),
        "question": nps_services.QUESTION, "reason_question": nps_services.REASON_QUESTION,
        "max_reason": nps_services.MAX_REASON}, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def nps_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """From the survey e-mail: no more surveys or marketing mail. GET only asks (mail scanners open links);
    the button (POST) withdraws the consent."""
    template = "service/nps_opt_out.html"
    try:
        invitation = nps_services.invitation_for_opt_out(token)
    except ValidationError as exc:
        return page(request, template, {"refused": " ".join(errors_of(exc).get("token", []))}, status=400)
    if request.method == "POST":
        nps_services.opt_out(invitation)
        return page(request, template, {"invitation": invitation, "done": True})
    return page(request, template, {"invitation": invitation})
