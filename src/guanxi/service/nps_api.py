"""NPS surveys over REST: list them, send a new one (service managers and administrators), and read a survey's
results and its answers (keyset pages) — figures and answers over the contacts the caller may see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import CURSOR, LIMIT, READ_ONE, WRITE, Id, Ref, actor, page_out, ref, sort_field, utc
from guanxi.customers.models import Classification

from . import nps, nps_services
from .nps_models import NpsResponse, NpsSurvey

router = Router()
TAG = ["nps"]


class NpsFiguresOut(Schema):
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: Decimal | None = Field(description="% promoters − % detractors, −100 to 100 (one decimal); null without "
                                            "answers.")


class NpsSurveyOut(Schema):
    id: int
    name: str
    language: str
    classification: str
    account_owner: Ref | None
    created_by: Ref | None
    created_at: dt.datetime
    invited: int = Field(description="Contacts you may see that the survey e-mails (not skipped).")
    skipped: int
    figures: NpsFiguresOut


class NpsSurveyPage(Schema):
    items: list[NpsSurveyOut]
    next: str | None


class NpsSurveyQuery(Schema):
    sort: str = sort_field(nps_services.SURVEY_SORTS, "-created_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class NpsSurveyIn(Schema):
    name: str = Field(max_length=1000)
    classification: str = Field("", max_length=10, json_schema_extra={"enum": ["", *Classification.values]},
                                description="Only contacts whose account is classified so (empty: any).")
    account_owner_id: int | None = Field(None, description="Only contacts whose account this user owns.")
    language: str | None = Field(None, max_length=20, description="The e-mail's language (zh-hans or en; default "
                                                                   "the site's).")


class NpsSkippedOut(Schema):
    no_consent: int
    no_email: int
    undeliverable: int
    recent: int


class NpsResultsOut(Schema):
    survey: NpsSurveyOut
    responses: int
    promoters: int
    passives: int
    detractors: int
    promoter_share: Decimal | None
    passive_share: Decimal | None
    detractor_share: Decimal | None
    nps: Decimal | None
    invited: int
    sent: int
    pending: int
    failed: int
    skipped: int
    skipped_by_reason: NpsSkippedOut
    response_rate: Decimal | None


class NpsAnswerOut(Schema):
    id: int
    score: int
    category: str
    reason: str
    at: dt.datetime
    contact: Ref
    account: Ref | None
    follow_up_task_id: int | None


class NpsAnswerPage(Schema):
    items: list[NpsAnswerOut]
    next: str | None


class NpsAnswerQuery(Schema):
    category: str | None = Field(None, max_length=20, json_schema_extra={"enum": list(nps.CATEGORIES)},
                                 description="promoter (9–10), passive (7–8) or detractor (0–6).")
    sort: str = sort_field(nps_services.ANSWER_SORTS, "-at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


def _survey(survey: NpsSurvey) -> dict[str, Any]:
    b = survey.breakdown
    return {"id": survey.pk, "name": survey.name, "language": survey.language,
            "classification": survey.classification, "account_owner": ref(survey.account_owner),
            "created_by": ref(survey.created_by), "created_at": utc(survey.created_at), "invited": survey.invited,
            "skipped": survey.skipped_count,
            "figures": {"responses": b.responses, "promoters": b.promoters, "passives": b.passives,
                        "detractors": b.detractors, "nps": b.score}}


def _answer(r: NpsResponse) -> dict[str, Any]:
    return {"id": r.pk, "score": r.score, "category": r.category, "reason": r.reason, "at": utc(r.at),
            "contact": ref(r.contact), "account": ref(r.account), "follow_up_task_id": r.follow_up_id}


def _visible_survey(id: int) -> NpsSurvey:
    """Every signed-in user may read every survey (its figures count only the contacts they may see)."""
    return get_object_or_404(NpsSurvey.objects.select_related("created_by", "account_owner"), pk=id)


def _one(request: HttpRequest, survey: NpsSurvey) -> dict[str, Any]:
    return _survey(nps_services.summarise(actor(request), [survey])[0])


@router.get("/nps-surveys", response={200: NpsSurveyPage, **READ_ONE}, tags=TAG)
def list_nps_surveys(request: HttpRequest, params: Query[NpsSurveyQuery]):
    """NPS surveys, newest first, each with its invitations and answers counted over the contacts you may see."""
    page = nps_services.surveys_page(actor(request), sort=params.sort, cursor=params.cursor, limit=params.limit)
    return page_out([_survey(s) for s in page.items], page.next_cursor)


@router.post("/nps-surveys", response={201: NpsSurveyOut, **WRITE}, tags=TAG)
def send_nps_survey(request: HttpRequest, payload: NpsSurveyIn):
    """Send a new survey to the contacts you may see that match the filters (service managers and
    administrators); the e-mails leave in the background."""
    survey = nps_services.send_survey(actor(request), payload.model_dump())
    return Status(201, _one(request, survey))


@router.get("/nps-surveys/{id}", response={200: NpsResultsOut, **READ_ONE}, tags=TAG)
def nps_survey_results(request: HttpRequest, id: Id):
    """The survey's figures: answers by category with their shares, the NPS, and the e-mails sent, waiting, given
    up and skipped (by reason) — over the contacts you may see."""
    survey = _visible_survey(id)
    return {"survey": _one(request, survey), **nps_services.results(actor(request), survey).as_dict()}


@router.get("/nps-surveys/{id}/answers", response={200: NpsAnswerPage, **READ_ONE}, tags=TAG)
def nps_survey_answers(request: HttpRequest, id: Id, params: Query[NpsAnswerQuery]):
    """The answers of the contacts you may see, newest first (keyset pages)."""
    survey = _visible_survey(id)
    page = nps_services.answers_page(actor(request), survey, category=params.category, sort=params.sort,
                                     cursor=params.cursor, limit=params.limit)
    return page_out([_answer(r) for r in page.items], page.next_cursor)
