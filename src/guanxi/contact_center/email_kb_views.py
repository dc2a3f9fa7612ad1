"""Knowledge-base answers on pages: the automatic-answer setting per question group (administrators), and the
articles suggested for an email ticket, inserted into the agent's reply."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from guanxi.core.records import int_or_none
from guanxi.customers.services import validation_messages
from guanxi.knowledge.models import Article
from guanxi.knowledge.services import quoted
from guanxi.service.models import QuestionGroup
from guanxi.service.ticket_models import Ticket

from . import email_kb, email_services
from .email_forms import AutoAnswerForm
from .email_kb_models import EmailAutoResponse, KnowledgeSuggestion


def _rows(forms: dict[int, AutoAnswerForm] | None = None) -> list[tuple[QuestionGroup, AutoAnswerForm]]:
    settings = {s.question_group_id: s for s in EmailAutoResponse.objects.all()}
    rows = []
    for group in QuestionGroup.objects.filter(active=True).order_by("name", "pk"):
        current = settings.get(group.pk) or EmailAutoResponse(question_group=group)
        form = (forms or {}).get(group.pk) or AutoAnswerForm(prefix=f"g{group.pk}", initial={
            "enabled": current.enabled, "min_score": current.min_score, "max_articles": current.max_articles,
            "template": current.template})
        rows.append((group, form))
    return rows


@login_required
def auto_answers(request: HttpRequest) -> HttpResponse:
    """Settings → Mailboxes → Automatic answers: one form per active question group."""
    email_services.require_admin(request.user)
    forms = None
    if request.method == "POST":
        group = get_object_or_404(QuestionGroup, pk=int_or_none(request.POST.get("group")) or 0)
        form = AutoAnswerForm(request.POST, prefix=f"g{group.pk}")
        if form.is_valid():
            try:
                email_services.set_auto_response(request.user, group, form.to_data())
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
            else:
                messages.success(request, _("Saved the automatic answer of “%(group)s”.") % {"group": group.name})
                return redirect("contact_center:auto_answers")
        forms = {group.pk: form}
    return render(request, "contact_center/auto_answers.html", {"rows": _rows(forms),
                                                                 "default": email_kb.default_template()})


@login_required
def suggestion_text(request: HttpRequest, ticket_id: int) -> JsonResponse:
    """The text "Insert into reply" puts in: a suggested article of a ticket, both visible to the user."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), pk=ticket_id)
    suggestion = get_object_or_404(
        KnowledgeSuggestion.objects.filter(ticket=ticket, article__in=Article.objects.visible_to(request.user))
        .select_related("article"), article_id=int_or_none(request.GET.get("id")) or 0)
    return JsonResponse({"text": quoted(suggestion.article).reply_text})

