"""REST resources of knowledge-base answers to email: the articles suggested for a ticket (anyone who may see
the ticket), and the automatic-answer setting of each question group (administrators). See docs/api.md."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from guanxi.core.api import READ_ONE, WRITE, WRITE_ONE, Id, actor
from guanxi.knowledge.models import Article, ArticleStatus, Visibility
from guanxi.knowledge.services import article_link, quoted
from guanxi.service.models import QuestionGroup
from guanxi.service.ticket_models import Ticket

from . import email_services
from .email_kb_models import EmailAutoResponse, KnowledgeSuggestion

router = Router()
TAG = ["mailboxes"]


class EmailKbSuggestionOut(Schema):
    article_id: int
    title: str
    visibility: str
    score: int = Field(..., description="3 points per keyword of the question in the title, 1 per keyword only in "
                                        "the text.")
    sent: bool = Field(..., description="Mailed to the customer as the automatic answer.")
    public_url: str | None = Field(..., description="The portal link, for a published public article.")
    reply_text: str = Field(..., description="What “insert into reply” puts in the agent's reply.")


class EmailAutoAnswerOut(Schema):
    question_group_id: int
    question_group: str
    enabled: bool
    min_score: int
    max_articles: int
    template: str


class EmailAutoAnswerPatch(Schema):
    enabled: bool | None = None
    min_score: int | None = Field(None, ge=1, le=100)
    max_articles: int | None = Field(None, ge=1, le=5)
    template: str | None = Field(None, max_length=5000, description="Empty: the standard message. Placeholders: "
                                 "{ticket}, {token}, {subject}, {customer}, {articles}.")


def _suggestion(s: KnowledgeSuggestion) -> dict[str, Any]:
    article = s.article
    public = article.visibility == Visibility.PUBLIC and article.status == ArticleStatus.PUBLISHED
    return {"article_id": article.pk, "title": article.title, "visibility": article.visibility, "score": s.score,
            "sent": s.sent, "public_url": article_link(article) if public else None,
            "reply_text": quoted(article).reply_text}


def _auto(setting: EmailAutoResponse) -> dict[str, Any]:
    return {"question_group_id": setting.question_group.pk, "question_group": setting.question_group.name,
            **{k: getattr(setting, k) for k in email_services.AUTO_FIELDS}}


@router.get("/tickets/{ticket_id}/kb-suggestions", response={200: list[EmailKbSuggestionOut], **READ_ONE},
            tags=TAG)
def ticket_kb_suggestions(request: HttpRequest, ticket_id: Id):
    """The knowledge-base articles suggested for an email ticket's question, best first (the ones the caller may
    read)."""
    ticket = get_object_or_404(Ticket.objects.visible_to(actor(request)), pk=ticket_id)
    rows = (KnowledgeSuggestion.objects.filter(ticket=ticket, article__in=Article.objects.visible_to(actor(request)))
            .select_related("article"))
    return [_suggestion(s) for s in rows]


@router.get("/email-auto-answers", response={200: list[EmailAutoAnswerOut], **WRITE}, tags=TAG)
def list_auto_answers(request: HttpRequest):
    """The automatic-answer setting of every active question group (administrators only; off until set)."""
    email_services.require_admin(actor(request))
    return [_auto(email_services.auto_response(g)) for g in QuestionGroup.objects.filter(active=True)
            .order_by("name", "pk")]


@router.get("/email-auto-answers/{question_group_id}", response={200: EmailAutoAnswerOut, **WRITE_ONE}, tags=TAG)
def get_auto_answer(request: HttpRequest, question_group_id: Id):
    email_services.require_admin(actor(request))
    return _auto(email_services.auto_response(get_object_or_404(QuestionGroup, pk=question_group_id)))


@router.patch("/email-auto-answers/{question_group_id}", response={200: EmailAutoAnswerOut, **WRITE_ONE}, tags=TAG)
def update_auto_answer(request: HttpRequest, question_group_id: Id, payload: EmailAutoAnswerPatch):
    """Change the fields given. Answers go only to new email tickets of the group whose best public article
    scores at least `min_score`."""
    email_services.require_admin(actor(request))
    group = get_object_or_404(QuestionGroup, pk=question_group_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k == "template"}
    if data.get("template") is None and "template" in data:
        data["template"] = ""
    return _auto(email_services.set_auto_response(actor(request), group, data))
