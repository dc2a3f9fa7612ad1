"""REST resources for accounts and contacts: lists with filters, CRUD, bulk actions, timeline, audit
trail and search. Thin: parses, calls the services, serialises. See docs/api.md."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from guanxi.core.api import (
    CONFLICT_SERIALIZERS,
    CURSOR,
    ERRORS,
    LIMIT,
    READ_ONE,
    WRITE,
    WRITE_ONE,
    CountOut,
    Id,
    Ref,
    actor,
    page_out,
    ref,
    sort_field,
    utc,
)
from guanxi.core.models import User
from guanxi.core.paging import paginate
from guanxi.core.records import audit_trail
from guanxi.core.search import capped_count, matching
from guanxi.quality.approval_api import ChangeRequestOut, request_out

from . import services
from .api_rows import account_dicts, account_values, contact_dicts, contact_values, json_response
from .filters import ACCOUNT_SORTS, CONTACT_SORTS, apply_filters, invalid_rules, missing_rules
from .models import (
    Account,
    AddressKind,
    Channel,
    Classification,
    CompanySize,
    Contact,
    Industry,
    LifecycleStage,
    Source,
)
from .timeline import timeline_for

router = Router()


def _enum(choices: type, blank: bool = True) -> dict[str, Any]:
    values = list(choices.values) + ([""] if blank else [])
    return {"enum": values}


def _enum_list(choices: type) -> dict[str, Any]:
    return {"items": {"type": "string", "enum": list(choices.values)}}


def _wrap_text(key: str, model: type[Schema]) -> BeforeValidator:
    """A plain string where an object is expected becomes {key: string}."""

    def wrap(value: Any) -> Any:
        if isinstance(value, str):
            return {key: value}
        if not isinstance(value, dict):
            raise PydanticCustomError("text_or_object", _("Expected text or an object."))
        return value

    return BeforeValidator(wrap, json_schema_input_type=str | model)


# ------------------------------------------------------------------ input schemas


class MethodIn(Schema):
    value: str
    label: str = ""


class AddressIn(Schema):
    kind: str = Field(None, json_schema_extra=_enum(AddressKind, blank=False))
    country: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    postcode: str | None = None
    line: str | None = Field(None, description="A whole address, split into province/city/district/street.")


Method = Annotated[MethodIn, _wrap_text("value", MethodIn)]
AddressItem = Annotated[AddressIn, _wrap_text("line", AddressIn)]
Text = str | None


class _AccountFields(Schema):
    industry: str = Field(None, json_schema_extra=_enum(Industry))
    size: str = Field(None, json_schema_extra=_enum(CompanySize))
    classification: str = Field(None, json_schema_extra=_enum(Classification))
    source: str = Field(None, json_schema_extra=_enum(Source))
    lifecycle_stage: str = Field(None, json_schema_extra=_enum(LifecycleStage, blank=False))
    website: Text = None
    phone: Text = None
    email: Text = None
    description: Text = None
    parent_id: Id | None = None
    owner_id: Id | None = None
    tags: list[str] | None = Field(None, max_length=50)
    custom: dict[str, Any] | None = None
    addresses: list[AddressItem] | None = Field(None, max_length=20)


class AccountIn(_AccountFields):
    name: str


class AccountPatch(_AccountFields):
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    name: Text = None


class _ContactFields(Schema):
    title: Text = None
    department: Text = None
    birthday: dt.date | None = None
    preferred_channel: str = Field(None, json_schema_extra=_enum(Channel))
    marketing_consent: bool | None = None
    description: Text = None
    account_ids: list[Id] | None = Field(None, max_length=100, description="The first is the primary account.")
    phones: list[Method] | None = Field(None, max_length=20)
    emails: list[Method] | None = Field(None, max_length=20)
    owner_id: Id | None = None
    tags: list[str] | None = Field(None, max_length=50)
    custom: dict[str, Any] | None = None
    addresses: list[AddressItem] | None = Field(None, max_length=20)


class ContactIn(_ContactFields):
    name: str


class ContactPatch(_ContactFields):
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    name: Text = None


class BulkAssignIn(Schema):
    ids: list[Id] = Field(..., max_length=1000)
    owner_id: Id


class BulkTagIn(Schema):
    ids: list[Id] = Field(..., max_length=1000)
    tags: list[str] = Field(..., max_length=50)


# ------------------------------------------------------------------ output schemas


class MethodOut(Schema):
    value: str
    normalized: str
    label: str


class AddressOut(Schema):
    kind: str
    country: str
    province: str
    city: str
    district: str
    street: str
    postcode: str
    line: str


class _RecordOut(Schema):
    id: int
    version: int
    name: str
    phone: str
    email: str
    description: str
    owner: Ref | None
    team: Ref | None
    tags: list[str]
    custom: dict[str, Any]
    addresses: list[AddressOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountOut(_RecordOut):
    industry: str
    size: str
    classification: str
    source: str
    lifecycle_stage: str
    website: str
    parent: Ref | None


class ContactOut(_RecordOut):
    title: str
    department: str
    birthday: dt.date | None
    preferred_channel: str
    marketing_consent: bool
    consent_changed_at: dt.datetime | None
    phones: list[MethodOut]
    emails: list[MethodOut]
    account_ids: list[int]
    primary_account: Ref | None


class AccountPage(Schema):
    items: list[AccountOut]
    next: str | None


class ContactPage(Schema):
    items: list[ContactOut]
    next: str | None


class AccountConflict(Schema):
    detail: str
    current: AccountOut


class ContactConflict(Schema):
    detail: str
    current: ContactOut


class AccountHeld(Schema):
    detail: str
    change_request: ChangeRequestOut
    current: AccountOut


class ContactHeld(Schema):
    detail: str
    change_request: ChangeRequestOut
    current: ContactOut


def _saved(obj: Account | Contact, item: dict[str, Any]) -> Any:
    """200 with the record, or 202 when changes to sensitive fields wait for approval (the rest is saved)."""
    if getattr(obj, "change_request", None) is None:
        return item
    return Status(202, {"detail": _("Saved, except the changes to sensitive fields: they wait for approval."),
                        "change_request": request_out(obj.change_request), "current": item})


# ------------------------------------------------------------------ serialisation (no query per row)


def account_item(pk: int, user: User) -> dict[str, Any]:
    """One account as the API shows it (after a write: whatever the user may now see of it)."""
    return account_dicts(list(account_values(Account.objects.filter(pk=pk))), user)[0]


def contact_item(pk: int, user: User) -> dict[str, Any]:
    return contact_dicts(list(contact_values(Contact.objects.filter(pk=pk))), user)[0]


def _one(rows: QuerySet, pk: int) -> dict[str, Any]:
    row = rows.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


CONFLICT_SERIALIZERS[Account] = account_item
CONFLICT_SERIALIZERS[Contact] = contact_item


def visible_account(request: HttpRequest, id: int) -> Account:
    """The account, or 404 when it does not exist or the user may not see it."""
    return get_object_or_404(Account.objects.visible_to(actor(request)), pk=id)


def visible_contact(request: HttpRequest, id: int) -> Contact:
    return get_object_or_404(Contact.objects.visible_to(actor(request)), pk=id)


# ------------------------------------------------------------------ list parameters

_OWNER = Field(default_factory=list, description="A user id, or `me`; repeat for several.")
_DATE_AFTER = Field(None, description="Changed on or after this day (YYYY-MM-DD).")
_DATE_BEFORE = Field(None, description="Changed before this day (YYYY-MM-DD).")
_FILTERS_DOC = (
    "Filters combine with AND; repeat a parameter for OR within it. Custom fields filter as "
    "`custom.<key>=value`, numbers, money and dates also as `custom.<key>__gte` / `__lte` / `__gt` / `__lt`. "
    "`missing=<field>` keeps the records with no value in that field, `invalid=phone|email` (contacts) those with "
    "a stored phone or email that is not valid: the figures of the data-health report."
)


def _data_health_filter(rules: dict, description: str) -> Any:
    """`missing=` / `invalid=`, repeatable; apply_filters refuses other values with a 400 naming the parameter."""
    return Field(default_factory=list, description=description,
                 json_schema_extra={"items": {"type": "string", "enum": sorted(rules)}})


_MISSING = "Only the records with no value in this field."


class AccountQuery(Schema):
    q: str | None = Field(None, description="Search: name, pinyin, initials, phone, email.")
    classification: list[str] = Field(default_factory=list, json_schema_extra=_enum_list(Classification))
    lifecycle_stage: list[str] = Field(default_factory=list, json_schema_extra=_enum_list(LifecycleStage))
    industry: list[str] = Field(default_factory=list, json_schema_extra=_enum_list(Industry))
    source: list[str] = Field(default_factory=list, json_schema_extra=_enum_list(Source))
    size: list[str] = Field(default_factory=list, json_schema_extra=_enum_list(CompanySize))
    owner: list[str] = _OWNER
    tag: list[str] = Field(default_factory=list)
    parent: list[Id] = Field(default_factory=list, description="Subsidiaries of this account.")
    province: list[str] = Field(default_factory=list, description="With an address in this province.")
    missing: list[str] = _data_health_filter(missing_rules(Account), _MISSING)
    updated_after: dt.date | None = _DATE_AFTER
    updated_before: dt.date | None = _DATE_BEFORE
    sort: str = sort_field(ACCOUNT_SORTS, "-id")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class ContactQuery(Schema):
    q: str | None = Field(None, description="Search: name, pinyin, initials, phone, email.")
    owner: list[str] = _OWNER
    tag: list[str] = Field(default_factory=list)
    account: list[Id] = Field(default_factory=list, description="Contacts of this account.")
    marketing_consent: str | None = Field(None, description="`yes`: only the contacts who agreed to receive "
                                                            "marketing; `no`: those who did not.")
    missing: list[str] = _data_health_filter(missing_rules(Contact), _MISSING)
    invalid: list[str] = _data_health_filter(invalid_rules(), "Only the contacts with a phone or email that is "
                                                              "not valid.")
    updated_after: dt.date | None = _DATE_AFTER
    updated_before: dt.date | None = _DATE_BEFORE
    sort: str = sort_field(CONTACT_SORTS, "-id")
    limit: int = LIMIT
    cursor: str | None = CURSOR


# ------------------------------------------------------------------ accounts

ACCOUNT_TAG = ["accounts"]
CONTACT_TAG = ["contacts"]


@router.post("/accounts/bulk-assign", response={200: CountOut, **WRITE}, tags=ACCOUNT_TAG)
def bulk_assign_accounts(request: HttpRequest, payload: BulkAssignIn):
    """Give the listed accounts you may edit a new owner; returns how many moved."""
    return {"count": services.bulk_assign(actor(request), "account", payload.ids, payload.owner_id)}


@router.post("/accounts/bulk-tag", response={200: CountOut, **WRITE}, tags=ACCOUNT_TAG)
def bulk_tag_accounts(request: HttpRequest, payload: BulkTagIn):
    """Add tags to the listed accounts you may edit; returns how many were tagged."""
    return {"count": services.bulk_tag(actor(request), "account", payload.ids, payload.tags)}


@router.get("/accounts", response={200: AccountPage, **ERRORS}, tags=ACCOUNT_TAG, description=_FILTERS_DOC)
def list_accounts(request: HttpRequest, params: Query[AccountQuery]):
    user = actor(request)
    qs = account_values(apply_filters(Account.objects.visible_to(user), request.GET, user))
    page = paginate(qs, sort=params.sort, allowed=ACCOUNT_SORTS, cursor=params.cursor, limit=params.limit)
    return json_response(page_out(account_dicts(page.items, user), page.next_cursor))


@router.post("/accounts", response={201: AccountOut, **WRITE}, tags=ACCOUNT_TAG)
def create_account(request: HttpRequest, payload: AccountIn):
    user = actor(request)
    account = services.create_account(user, payload.model_dump(exclude_unset=True))
    return Status(201, account_item(account.pk, user))


@router.get("/accounts/{id}", response={200: AccountOut, **READ_ONE}, tags=ACCOUNT_TAG)
def get_account(request: HttpRequest, id: Id):
    user = actor(request)
    return json_response(account_dicts([_one(account_values(Account.objects.visible_to(user)), id)], user)[0])


@router.patch("/accounts/{id}", response={200: AccountOut, 202: AccountHeld, **WRITE_ONE, 409: AccountConflict},
              tags=ACCOUNT_TAG)
def update_account(request: HttpRequest, id: Id, payload: AccountPatch):
    """Change the fields sent (and only those); `version` must be the one you read. Changes to sensitive
    fields by someone who may not make them wait for approval: 202 with the change request."""
    user = actor(request)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    account = services.update_account(user, visible_account(request, id), data, version)
    return _saved(account, account_item(account.pk, user))


@router.delete("/accounts/{id}", response={204: None, **WRITE_ONE}, tags=ACCOUNT_TAG)
def delete_account(request: HttpRequest, id: Id):
    services.delete_account(actor(request), visible_account(request, id))
    return Status(204, None)


# ------------------------------------------------------------------ contacts


@router.post("/contacts/bulk-assign", response={200: CountOut, **WRITE}, tags=CONTACT_TAG)
def bulk_assign_contacts(request: HttpRequest, payload: BulkAssignIn):
    """Give the listed contacts you may edit a new owner; returns how many moved."""
    return {"count": services.bulk_assign(actor(request), "contact", payload.ids, payload.owner_id)}


@router.post("/contacts/bulk-tag", response={200: CountOut, **WRITE}, tags=CONTACT_TAG)
def bulk_tag_contacts(request: HttpRequest, payload: BulkTagIn):
    """Add tags to the listed contacts you may edit; returns how many were tagged."""
    return {"count": services.bulk_tag(actor(request), "contact", payload.ids, payload.tags)}


@router.get("/contacts", response={200: ContactPage, **ERRORS}, tags=CONTACT_TAG, description=_FILTERS_DOC)
def list_contacts(request: HttpRequest, params: Query[ContactQuery]):
    user = actor(request)
    qs = contact_values(apply_filters(Contact.objects.visible_to(user), request.GET, user))
    page = paginate(qs, sort=params.sort, allowed=CONTACT_SORTS, cursor=params.cursor, limit=params.limit)
    return json_response(page_out(contact_dicts(page.items, user), page.next_cursor))


@router.post("/contacts", response={201: ContactOut, **WRITE}, tags=CONTACT_TAG)
def create_contact(request: HttpRequest, payload: ContactIn):
    user = actor(request)
    contact = services.create_contact(user, payload.model_dump(exclude_unset=True))
    return Status(201, contact_item(contact.pk, user))


@router.get("/contacts/{id}", response={200: ContactOut, **READ_ONE}, tags=CONTACT_TAG)
def get_contact(request: HttpRequest, id: Id):
    user = actor(request)
    return json_response(contact_dicts([_one(contact_values(Contact.objects.visible_to(user)), id)], user)[0])


@router.patch("/contacts/{id}", response={200: ContactOut, 202: ContactHeld, **WRITE_ONE, 409: ContactConflict},
              tags=CONTACT_TAG)
def update_contact(request: HttpRequest, id: Id, payload: ContactPatch):
    """Change the fields sent (and only those); `version` must be the one you read. Changes to sensitive
    fields by someone who may not make them wait for approval: 202 with the change request."""
    user = actor(request)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    contact = services.update_contact(user, visible_contact(request, id), data, version)
    return _saved(contact, contact_item(contact.pk, user))


@router.delete("/contacts/{id}", response={204: None, **WRITE_ONE}, tags=CONTACT_TAG)
def delete_contact(request: HttpRequest, id: Id):
    services.delete_contact(actor(request), visible_contact(request, id))
    return Status(204, None)


# ------------------------------------------------------------------ timeline and audit trail


class TimelineItemOut(Schema):
    at: dt.datetime
    kind: str
    title: str
    body: str
    actor: Ref | None
    changes: dict[str, Any]


class TimelinePage(Schema):
    items: list[TimelineItemOut]
    next: dt.datetime | None = Field(description="Pass as `before` for older items.")


class TimelineQuery(Schema):
    limit: int = LIMIT
    before: dt.datetime | None = Field(None, description="Only items older than this time (ISO 8601).")


class AuditOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor: Ref | None
    changes: dict[str, Any]
    version: int


class AuditPage(Schema):
    items: list[AuditOut]
    next: str | None


class AuditQuery(Schema):
    limit: int = LIMIT
    cursor: str | None = CURSOR


def _timeline(request: HttpRequest, subject, params: TimelineQuery) -> dict[str, Any]:
    before = params.before
    if before is not None:
        if before.tzinfo is None:
            before = before.replace(tzinfo=dt.UTC)
        try:
            before = before.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError({"before": [_("Enter a date and time in ISO 8601.")]})
    items = timeline_for(subject, actor(request), limit=params.limit, before=before)
    return {
        "items": [{"at": utc(i.at), "kind": i.kind, "title": str(i.title), "body": i.body, "actor": ref(i.actor),
                   "changes": i.changes or {}} for i in items],
        "next": utc(items[-1].at) if len(items) == params.limit else None,
    }


def _audit(subject, params: AuditQuery) -> dict[str, Any]:
    page = paginate(audit_trail(subject), sort="-id", allowed=["-id"], cursor=params.cursor, limit=params.limit)
    return page_out([{"id": e.pk, "at": utc(e.at), "action": e.action, "actor": ref(e.actor),
                      "changes": e.changes or {}, "version": e.version} for e in page.items], page.next_cursor)


@router.get("/accounts/{id}/timeline", response={200: TimelinePage, **READ_ONE}, tags=ACCOUNT_TAG)
def account_timeline(request: HttpRequest, id: Id, params: Query[TimelineQuery]):
    """Everything about the account, newest first: notes, changes, and more as apps add sources."""
    return _timeline(request, visible_account(request, id), params)


@router.get("/accounts/{id}/audit", response={200: AuditPage, **READ_ONE}, tags=ACCOUNT_TAG)
def account_audit(request: HttpRequest, id: Id, params: Query[AuditQuery]):
    """Who changed what and when, newest first (old → new per field)."""
    return _audit(visible_account(request, id), params)


@router.get("/contacts/{id}/timeline", response={200: TimelinePage, **READ_ONE}, tags=CONTACT_TAG)
def contact_timeline(request: HttpRequest, id: Id, params: Query[TimelineQuery]):
    """Everything about the contact, newest first."""
    return _timeline(request, visible_contact(request, id), params)


@router.get("/contacts/{id}/audit", response={200: AuditPage, **READ_ONE}, tags=CONTACT_TAG)
def contact_audit(request: HttpRequest, id: Id, params: Query[AuditQuery]):
    """Who changed what and when, newest first."""
    return _audit(visible_contact(request, id), params)


# ------------------------------------------------------------------ search


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=200, description="Name, pinyin, initials, phone or email.")
    limit: int = Field(5, ge=1, le=50, description="At most this many of each kind.")


class SearchCounts(Schema):
    """How many match, up to 100; 101 means "more than 100" (see the lists for all of them)."""

    accounts: int
    contacts: int


class SearchOut(Schema):
    accounts: list[AccountOut]
    contacts: list[ContactOut]
    counts: SearchCounts


@router.get("/search", response={200: SearchOut, **ERRORS}, tags=["search"])
def search(request: HttpRequest, params: Query[SearchQuery]):
    """Accounts and contacts you may see whose name, pinyin (full or initials), phone or email match."""
    user = actor(request)
    accounts = matching(Account.objects.visible_to(user), params.q)
    contacts = matching(Contact.objects.visible_to(user), params.q)
    return {
        "accounts": account_dicts(list(account_values(accounts).order_by("name", "id")[: params.limit]), user),
        "contacts": contact_dicts(list(contact_values(contacts).order_by("name", "id")[: params.limit]), user),
        "counts": {"accounts": capped_count(accounts), "contacts": capped_count(contacts)},
    }


__all__ = ["router", "visible_account", "visible_contact"]
