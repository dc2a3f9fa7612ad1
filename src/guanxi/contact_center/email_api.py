"""REST resources of the email channel (administrators only): mailboxes (passwords write-only), sync now,
sync health. See docs/api.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import WRITE, WRITE_ONE, Id, actor

from . import email_services
from .email_imap import SyncResult
from .email_models import InboundStatus, Mailbox, MailboxMode, Security

router = Router()
TAG = ["mailboxes"]
Text = str | None
SECURITY = {"enum": list(Security.values)}
MODE = Field("tickets", json_schema_extra={"enum": list(MailboxMode.values)},
             description="tickets: each new mail opens a ticket; logging: users' BCC'd and forwarded mail is logged "
                         "on the contacts' timelines.")
PASSWORD = Field(None, max_length=500, description="Write-only: never returned. Omit or leave empty to keep it.",
                 json_schema_extra={"writeOnly": True})


class MailboxIn(Schema):
    name: str = Field(..., max_length=100)
    address: str = Field(..., max_length=254)
    active: bool = True
    imap_host: str = Field(..., max_length=200)
    imap_port: int = Field(993, ge=1, le=65535)
    imap_security: str = Field("ssl", json_schema_extra=SECURITY)
    imap_user: str = Field(..., max_length=200)
    imap_password: Text = PASSWORD
    imap_folder: str = Field("INBOX", max_length=200)
    smtp_host: Text = Field(None, max_length=200)
    smtp_port: int = Field(465, ge=1, le=65535)
    smtp_security: str = Field("ssl", json_schema_extra=SECURITY)
    smtp_user: Text = Field(None, max_length=200)
    smtp_password: Text = PASSWORD
    question_group_id: Id | None = None
    queue_id: Id | None = None
    auto_acknowledge: bool = True
    mode: str = MODE
    use_idle: bool = Field(True, description="Watched over IMAP IDLE (push): new mail is read at once.")


class MailboxPatch(Schema):
    name: Text = Field(None, max_length=100)
    address: Text = Field(None, max_length=254)
    active: bool | None = None
    imap_host: Text = Field(None, max_length=200)
    imap_port: int | None = Field(None, ge=1, le=65535)
    imap_security: str | None = Field(None, json_schema_extra=SECURITY)
    imap_user: Text = Field(None, max_length=200)
    imap_password: Text = PASSWORD
    imap_folder: Text = Field(None, max_length=200)
    smtp_host: Text = Field(None, max_length=200)
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_security: str | None = Field(None, json_schema_extra=SECURITY)
    smtp_user: Text = Field(None, max_length=200)
    smtp_password: Text = PASSWORD
    question_group_id: Id | None = None
    queue_id: Id | None = None
    auto_acknowledge: bool | None = None
    mode: str | None = Field(None, json_schema_extra={"enum": list(MailboxMode.values)})
    use_idle: bool | None = None


class MailboxOut(Schema):
    id: int
    name: str
    address: str
    active: bool
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_folder: str
    imap_password_set: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password_set: bool
    question_group_id: int | None
    queue_id: int | None
    auto_acknowledge: bool
    mode: str
    use_idle: bool
    idle_state: str = Field(..., description="How the IDLE watcher (`guanxi serve`, `guanxi mail-idle`) watches it: "
                                             "idle, polling, retrying; empty: not watched (read every minute).")
    last_success_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None


class SyncOut(Schema):
    fetched: int
    created: int
    statuses: dict[str, int]
    resynced: bool
    error: str


class QuarantinedOut(Schema):
    id: int
    message_id: str
    uid: int | None
    reason: str
    received_at: dt.datetime


class UnmatchedOut(Schema):
    id: int
    message_id: str
    from_address: str
    subject: str
    unmatched: str = Field(..., description="The addresses (comma-separated) that match no contact.")
    received_at: dt.datetime


class MailboxHealthOut(Schema):
    mailbox: MailboxOut
    counts: dict[str, int] = Field(..., description=f"By status: {', '.join(InboundStatus.values)}.")
    total: int
    last_day: int
    unsent: int
    last_send_error: str
    quarantined: list[QuarantinedOut]
    unmatched: list[UnmatchedOut] = Field(..., description="Logging address: mail logged on no contact for some of "
                                                         "its addresses.")


def _out(m: Mailbox) -> dict[str, Any]:
    return {**{k: getattr(m, k) for k in MailboxOut.model_fields if hasattr(m, k) and not k.endswith("_set")},
            "imap_password_set": bool(m.imap_password_enc), "smtp_password_set": bool(m.smtp_password_enc)}


def _sync_out(result: SyncResult) -> dict[str, Any]:
    return {"fetched": result.fetched, "created": result.created, "statuses": result.statuses,
            "resynced": result.resynced, "error": result.error}


def _get(request: HttpRequest, mailbox_id: int) -> Mailbox:
    email_services.require_admin(actor(request))
    return get_object_or_404(Mailbox.objects.visible_to(actor(request)), pk=mailbox_id)


def _data(payload: Schema, exclude_unset: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=exclude_unset)
    for key in ("smtp_host", "smtp_user"):
        if key in data and data[key] is None:
            data[key] = ""
    return data


@router.get("/mailboxes", response={200: list[MailboxOut], **WRITE}, tags=TAG)
def list_mailboxes(request: HttpRequest):
    """Every mailbox (administrators only). Passwords are never returned: `*_password_set` says if one is stored."""
    email_services.require_admin(actor(request))
    return [_out(m) for m in Mailbox.objects.visible_to(actor(request))]


@router.post("/mailboxes", response={201: MailboxOut, **WRITE}, tags=TAG)
def create_mailbox(request: HttpRequest, payload: MailboxIn):
    return Status(201, _out(email_services.create_mailbox(actor(request), _data(payload, False))))


@router.get("/mailboxes/{mailbox_id}", response={200: MailboxOut, **WRITE_ONE}, tags=TAG)
def get_mailbox(request: HttpRequest, mailbox_id: Id):
    return _out(_get(request, mailbox_id))


@router.patch("/mailboxes/{mailbox_id}", response={200: MailboxOut, **WRITE_ONE}, tags=TAG)
def update_mailbox(request: HttpRequest, mailbox_id: Id, payload: MailboxPatch):
    """Change the fields given; an empty or absent password keeps the stored one."""
    mailbox = _get(request, mailbox_id)
    return _out(email_services.update_mailbox(actor(request), mailbox, _data(payload, True)))


@router.post("/mailboxes/{mailbox_id}/sync", response={200: SyncOut, **WRITE_ONE}, tags=TAG)
def sync_mailbox(request: HttpRequest, mailbox_id: Id, days: int | None = Query(None, ge=1,  # noqa: B008
                 le=email_services.MAX_RECONCILE_DAYS, description="Reconcile: read the last N days again.")):
    """Read new mail now (or, with `?days=N`, reconcile). A server error is in `error` (and on the mailbox),
    not a 5xx."""
    mailbox = _get(request, mailbox_id)
    result = (email_services.reconcile(actor(request), mailbox, days) if days
              else email_services.sync_now(actor(request), mailbox))
    return _sync_out(result)


@router.get("/mailboxes/{mailbox_id}/health", response={200: MailboxHealthOut, **WRITE_ONE}, tags=TAG)
def mailbox_health(request: HttpRequest, mailbox_id: Id):
    mailbox = _get(request, mailbox_id)
    return {"mailbox": _out(mailbox), **email_services.health(mailbox)}
