"""REST resources of web forms: the forms (administrators) and each form's submissions (to whoever may see the
lead or ticket a submission created). The public submission endpoint is /f/<key>/, outside the API. See
docs/api.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import CURSOR, LIMIT, READ_ONE, WRITE, WRITE_ONE, Id, Ref, actor, page_out, ref, sort_field, utc
from guanxi.core.paging import paginate

from . import form_services
from .form_models import FieldKind, FormKind, FormSubmission, WebForm

router = Router()
TAG = ["web forms"]
Text = str | None


class WebFormFieldIn(Schema):
    key: Text = Field(None, max_length=10, description="Kept from an earlier version of the form; new fields get "
                                                         "the next free key (f1, f2 …).")
    label_zh: str = Field("", max_length=100)
    label_en: str = Field("", max_length=100)
    type: str = Field(..., json_schema_extra={"enum": list(FieldKind.values)})
    required: bool = False
    target: str = Field("", max_length=100, description="The record field it fills: lead.name, lead.email, "
                        "contact.phone, ticket.subject, lead.custom.<key>, contact.custom.<key> …; empty: the "
                        "answer is added to the description.")
    choices: list[str] = Field(default_factory=list, max_length=50)


class WebFormFieldOut(Schema):
    key: str
    label_zh: str
    label_en: str
    type: str
    required: bool
    target: str
    choices: list[str]


class WebFormIn(Schema):
    name: str = Field(..., max_length=100)
    kind: str = Field(..., json_schema_extra={"enum": list(FormKind.values)},
                      description="Set when the form is created; it cannot change.")
    title_zh: str = Field("", max_length=200)
    title_en: str = Field("", max_length=200)
    fields: list[WebFormFieldIn] = Field(..., max_length=form_services.MAX_FIELDS)
    consent_enabled: bool = False
    consent_text_zh: str = Field("", max_length=500)
    consent_text_en: str = Field("", max_length=500)
    success_message: str = Field("", max_length=500)
    redirect_url: str = Field("", max_length=2000)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    queue_id: Id | None = None
    question_group_id: Id | None = None
    lead_owner_id: Id | None = Field(None, description="Lead forms: the owner of every lead; empty: the lead "
                                                       "assignment rules choose.")
    actor_id: Id = Field(..., description="The user the records are created as.")
    ack_mailbox_id: Id | None = Field(None, description="Send an acknowledgement from this mailbox.")
    ack_subject: str = Field("", max_length=200, description="Placeholders: {name}, {email}, {number}, {form}.")
    ack_body: str = Field("", max_length=5000)
    active: bool = True


class WebFormOut(Schema):
    id: int
    name: str
    kind: str
    public_key: str
    url: str = Field(..., description="The public page: link to it or frame it; POST answers to it.")
    title_zh: str
    title_en: str
    fields: list[WebFormFieldOut]
    consent_enabled: bool
    consent_text_zh: str
    consent_text_en: str
    success_message: str
    redirect_url: str
    allowed_origins: list[str]
    queue_id: int | None
    question_group_id: int | None
    lead_owner_id: int | None
    actor_id: int | None
    ack_mailbox_id: int | None
    ack_subject: str
    ack_body: str
    active: bool
    spam_count: int
    throttled_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class WebFormSubmissionOut(Schema):
    id: int
    status: str
    data: dict[str, Any] = Field(..., description="Answers by field key, as accepted (escape them when shown).")
    ip: str | None
    user_agent: str
    origin: str
    language: str
    consent: bool
    consent_text: str
    lead: Ref | None
    ticket: Ref | None
    contact: Ref | None
    acknowledged_at: dt.datetime | None
    created_at: dt.datetime


class WebFormSubmissionPage(Schema):
    items: list[WebFormSubmissionOut]
    next: str | None


class WebFormSubmissionQuery(Schema):
    sort: str = sort_field(form_services.SUBMISSION_SORTS, "-created_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


def _out(request: HttpRequest, form: WebForm) -> dict[str, Any]:
    data = {k: getattr(form, k) for k in WebFormOut.model_fields if k != "url" and hasattr(form, k)}
    url = reverse("contact_center:webform_public", args=[form.public_key])
    data.update(url=request.build_absolute_uri(url), created_at=utc(form.created_at), updated_at=utc(form.updated_at))
    return data


def _submission(s: FormSubmission) -> dict[str, Any]:
    return {"id": s.pk, "status": s.status, "data": s.data, "ip": s.ip, "user_agent": s.user_agent,
            "origin": s.origin, "language": s.language, "consent": s.consent, "consent_text": s.consent_text,
            "lead": ref(s.lead), "contact": ref(s.contact), "created_at": utc(s.created_at),
            "ticket": {"id": s.ticket.pk, "name": s.ticket.number} if s.ticket else None,
            "acknowledged_at": utc(s.ack_email.sent_at) if s.ack_email else None}


def _get(request: HttpRequest, id: int) -> WebForm:
    form_services.require_admin(actor(request))
    return get_object_or_404(WebForm, pk=id)


def _data(payload: Schema, exclude_unset: bool = False) -> dict[str, Any]:
    return payload.dict(exclude_unset=exclude_unset)


@router.get("/web-forms", response={200: list[WebFormOut], **WRITE}, tags=TAG)
def list_forms(request: HttpRequest):
    """Every web form (administrators only)."""
    form_services.require_admin(actor(request))
    return [_out(request, f) for f in WebForm.objects.order_by("name", "id")]


@router.post("/web-forms", response={201: WebFormOut, **WRITE}, tags=TAG)
def create_form(request: HttpRequest, payload: WebFormIn):
    return Status(201, _out(request, form_services.save_form(actor(request), None, _data(payload))))


@router.get("/web-forms/{id}", response={200: WebFormOut, **WRITE_ONE}, tags=TAG)
def get_form(request: HttpRequest, id: Id):
    return _out(request, _get(request, id))


@router.put("/web-forms/{id}", response={200: WebFormOut, **WRITE_ONE}, tags=TAG)
def update_form(request: HttpRequest, id: Id, payload: WebFormIn):
    """Replace the form's settings and fields (its kind stays). Send each field's `key` back to keep the
    answers already received matched to it."""
    return _out(request, form_services.save_form(actor(request), _get(request, id), _data(payload)))


@router.delete("/web-forms/{id}", response={204: None, **WRITE_ONE}, tags=TAG)
def delete_form(request: HttpRequest, id: Id):
    """Delete the form and its submissions; the leads and tickets they created stay."""
    form_services.delete_form(actor(request), _get(request, id))
    return Status(204, None)


@router.get("/web-forms/{id}/submissions", response={200: WebFormSubmissionPage, **READ_ONE}, tags=TAG)
def list_submissions(request: HttpRequest, id: Id, params: Query[WebFormSubmissionQuery]):
    """The form's submissions you may see (those whose lead or ticket you may see; all for administrators),
    newest first."""
    form = get_object_or_404(WebForm, pk=id)
    rows = form_services.submissions_for(actor(request), form)
    page = paginate(rows, sort=params.sort, allowed=form_services.SUBMISSION_SORTS, cursor=params.cursor,
                    limit=params.limit)
    return page_out([_submission(s) for s in page.items], page.next_cursor)
