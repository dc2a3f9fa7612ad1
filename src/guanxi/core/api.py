"""What every router of the REST API shares (auth, JSON parsing, error bodies, paging schemas),
and the core resources: users, teams, tags, custom fields and jobs. See docs/api.md."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import BaseModel, ConfigDict

from . import customfield_services
from .models import CustomField, FieldType, JobProgress, Tag, Team, User
from .paging import paginate
from .services import user_for_token, visible_users

# ------------------------------------------------------------------ authentication


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`, tokens from `guanxi token USERNAME` or the UI."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token.strip())
        if user is not None:
            request.user = user
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods must carry the CSRF token (X-CSRFToken)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, _("CSRF check failed: send the X-CSRFToken header with the csrftoken cookie."))
        return user


AUTH = [BearerAuth(), SessionCsrfAuth()]


def actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


# ------------------------------------------------------------------ request bodies


class BodyError(ValueError):
    """A request body that is not acceptable JSON; `field` names where (dotted path) when known."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _reject_constant(name: str) -> Any:
    raise BodyError("body", _("NaN and Infinity are not valid JSON numbers."))


def _check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise BodyError(where, _("Text may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyError(where, _("Text must be valid Unicode."))


def _walk(value: Any, path: list[str]) -> None:
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            _check_text(item, ".".join(where) or "body")
        elif isinstance(item, dict):
            for key, sub in item.items():
                _check_text(key, ".".join(where) or "body")
                stack.append((sub, [*where, key]))
        elif isinstance(item, list):
            stack.extend((sub, [*where, str(i)]) for i, sub in enumerate(item))


class JsonParser(Parser):
    """Strict JSON: no NaN/Infinity, no NUL characters or lone surrogates anywhere (PostgreSQL refuses
    them), so bad input is a 400 naming the field rather than a database error."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = json.loads(request.body, parse_constant=_reject_constant)
        except BodyError:
            raise
        except (ValueError, RecursionError) as exc:
            raise BodyError("body", _("The request body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise BodyError("body", _("The request body must be a JSON object."))
        _walk(data, [])
        return data

    def parse_querydict(self, data, list_fields, request):  # type: ignore[no-untyped-def]
        for key, values in data.lists():
            for value in values:
                if isinstance(value, str):  # request.FILES holds uploaded files, checked by whoever reads them
                    _check_text(value, key)
        return super().parse_querydict(data, list_fields, request)


# ------------------------------------------------------------------ shared schemas

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class Out(BaseModel):
    """Base of response schemas filled from plain dicts (`ref`, the `*_item` functions): pydantic checks them in
    its compiled core, without the wrapper ninja's `Schema` puts around every nested object (a page of 50 tickets:
    4.6 ms → 1.1 ms). Attributes are read too (`from_attributes`), as by `Schema`."""

    model_config = ConfigDict(from_attributes=True)


class Ref(Out):
    id: int
    name: str


class CountOut(Schema):
    count: int


def ref(obj: Model | None) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


def utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


ERRORS = {400: ErrorOut, 401: ErrorOut}
READ_ONE = {**ERRORS, 404: ErrorOut}
WRITE = {**ERRORS, 403: ErrorOut}
WRITE_ONE = {**READ_ONE, 403: ErrorOut}


def page_out(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next": next_cursor}


def sort_field(choices: list[str], default: str) -> Any:
    return Field(default, description="Sort order; a leading - sorts descending.", json_schema_extra={"enum": choices})


LIMIT = Field(50, ge=1, le=200, description="Page size (1–200).")
CURSOR = Field(None, max_length=1000, description="The `next` value of the previous page.")

# EditConflict bodies: how to show the current version of a record, by model (registered by each app).
CONFLICT_SERIALIZERS: dict[type[Model], Callable[[int, User], dict[str, Any]]] = {}


# ------------------------------------------------------------------ users and teams

router = Router()


class TeamOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str


class UserOut(Schema):
    id: int
    username: str
    name: str
    email: str
    role: str
    team: Ref | None


class MeOut(UserOut):
    first_name: str
    last_name: str
    language: str
    time_zone: str
    is_administrator: bool
    can_edit: bool


class UserPage(Schema):
    items: list[UserOut]
    next: str | None


class TeamPage(Schema):
    items: list[TeamOut]
    next: str | None


USER_SORTS = ["username", "-username", "id", "-id"]
TEAM_SORTS = ["path", "name", "-name", "id", "-id"]


class UserQuery(Schema):
    sort: str = sort_field(USER_SORTS, "username")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class TeamQuery(Schema):
    sort: str = sort_field(TEAM_SORTS, "path")
    limit: int = LIMIT
    cursor: str | None = CURSOR


def user_item(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": str(user), "email": user.email, "role": user.role,
            "team": ref(user.team)}


@router.get("/users/me", response={200: MeOut, **ERRORS}, tags=["users"])
def get_me(request: HttpRequest):
    """The user the request is authenticated as."""
    user = actor(request)
    return {**user_item(user), "first_name": user.first_name, "last_name": user.last_name,
            "language": user.language, "time_zone": user.time_zone,
            "is_administrator": user.is_administrator, "can_edit": user.can_edit}


@router.get("/users", response={200: UserPage, **ERRORS}, tags=["users"])
def list_users(request: HttpRequest, params: Query[UserQuery]):
    """Colleagues whose names you may see (for owner pickers and the `owner` filter)."""
    qs = visible_users(actor(request)).select_related("team")
    page = paginate(qs, sort=params.sort, allowed=USER_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([user_item(u) for u in page.items], page.next_cursor)


@router.get("/teams", response={200: TeamPage, **ERRORS}, tags=["users"])
def list_teams(request: HttpRequest, params: Query[TeamQuery]):
    """The team hierarchy; `path` ("/1/4/") lists a team's ancestors."""
    page = paginate(Team.objects.all(), sort=params.sort, allowed=TEAM_SORTS, cursor=params.cursor,
                    limit=params.limit)
    return page_out([{"id": t.pk, "name": t.name, "parent_id": t.parent_id, "path": t.path} for t in page.items],
                    page.next_cursor)


# ------------------------------------------------------------------ tags


class TagOut(Schema):
    id: int
    name: str
    color: str


class TagPage(Schema):
    items: list[TagOut]
    next: str | None


TAG_SORTS = ["name", "-name", "id", "-id"]


class TagQuery(Schema):
    sort: str = sort_field(TAG_SORTS, "name")
    limit: int = LIMIT
    cursor: str | None = CURSOR


@router.get("/tags", response={200: TagPage, **ERRORS}, tags=["tags"])
def list_tags(request: HttpRequest, params: Query[TagQuery]):
    """All tags. A tag is created the first time a record is tagged with a new name."""
    page = paginate(Tag.objects.all(), sort=params.sort, allowed=TAG_SORTS, cursor=params.cursor,
                    limit=params.limit)
    return page_out([{"id": t.pk, "name": t.name, "color": t.color} for t in page.items], page.next_cursor)


# ------------------------------------------------------------------ custom fields

FIELD_TYPES = list(FieldType.values)


class CustomFieldOut(Schema):
    id: int
    model: str
    key: str
    label: str
    label_zh: str
    label_en: str
    field_type: str
    choices: list[str]
    required: bool
    show_in_list: bool
    currency: str
    position: int
    active: bool


class CustomFieldList(Schema):
    items: list[CustomFieldOut]
    next: str | None


class CustomFieldIn(Schema):
    model: str = Field(..., json_schema_extra={"enum": list(customfield_services.MODELS)})
    key: str = Field(..., description="Lower-case letters, digits and single underscores; fixed once created.",
                     json_schema_extra={"pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$", "maxLength": 40})
    label_zh: str = ""
    label_en: str = ""
    field_type: str = Field(..., json_schema_extra={"enum": FIELD_TYPES})
    choices: list[str] = Field(default_factory=list, description="Required for choice and multi_choice.")
    required: bool = False
    show_in_list: bool = False
    currency: str = "CNY"
    position: int = Field(0, ge=0, le=2**31 - 1)


class CustomFieldPatch(Schema):
    model: str | None = Field(None, description="Fixed: a different value is refused.")
    key: str | None = Field(None, description="Fixed: a different value is refused.")
    field_type: str | None = Field(None, description="Fixed: a different value is refused.")
    label_zh: str | None = None
    label_en: str | None = None
    choices: list[str] | None = None
    required: bool | None = None
    show_in_list: bool | None = None
    currency: str | None = None
    position: int | None = Field(None, ge=0, le=2**31 - 1)
    active: bool | None = None


class CustomFieldQuery(Schema):
    model: str | None = Field(None, json_schema_extra={"enum": list(customfield_services.MODELS)})
    include_inactive: bool = False


def custom_field_item(f: CustomField) -> dict[str, Any]:
    return {"id": f.pk, "model": f.model, "key": f.key, "label": f.label, "label_zh": f.label_zh,
            "label_en": f.label_en, "field_type": f.field_type, "choices": [str(c) for c in f.choices or []],
            "required": f.required, "show_in_list": f.show_in_list, "currency": f.currency,
            "position": f.position, "active": f.active}


@router.get("/custom-fields", response={200: CustomFieldList, **ERRORS}, tags=["custom fields"])
def list_custom_fields(request: HttpRequest, params: Query[CustomFieldQuery]):
    """The fields administrators added to accounts and contacts (values are in each record's `custom`)."""
    qs = CustomField.objects.all()
    if params.model:
        qs = qs.filter(model=params.model)
    if not params.include_inactive:
        qs = qs.filter(active=True)
    return page_out([custom_field_item(f) for f in qs], None)


@router.post("/custom-fields", response={201: CustomFieldOut, **WRITE}, tags=["custom fields"])
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    """Add a field (administrators only)."""
    field = customfield_services.create_custom_field(actor(request), payload.model_dump())
    return Status(201, custom_field_item(field))


@router.patch("/custom-fields/{id}", response={200: CustomFieldOut, **WRITE_ONE}, tags=["custom fields"])
def update_custom_field(request: HttpRequest, id: Id, payload: CustomFieldPatch):
    """Change labels, choices, flags or position (administrators only)."""
    field = get_object_or_404(CustomField, pk=id)
    field = customfield_services.update_custom_field(actor(request), field, payload.model_dump(exclude_unset=True))
    return custom_field_item(field)


@router.delete("/custom-fields/{id}", response={204: None, **WRITE_ONE}, tags=["custom fields"])
def deactivate_custom_field(request: HttpRequest, id: Id):
    """Deactivate a field (administrators only): it leaves forms and filters, its values are kept."""
    field = get_object_or_404(CustomField, pk=id)
    customfield_services.deactivate_custom_field(actor(request), field)
    return Status(204, None)


# ------------------------------------------------------------------ jobs


class JobOut(Schema):
    id: uuid.UUID
    kind: str
    label: str
    status: str
    total: int
    done: int
    percent: int
    message: str
    created_at: dt.datetime
    updated_at: dt.datetime


@router.get("/jobs/{id}", response={200: JobOut, **READ_ONE}, tags=["jobs"])
def get_job(request: HttpRequest, id: uuid.UUID):
    """Progress of one of your background jobs (imports, exports …)."""
    job = get_object_or_404(JobProgress, pk=id, user=actor(request))
    return {"id": job.pk, "kind": job.kind, "label": job.label, "status": job.status, "total": job.total,
            "done": job.done, "percent": job.percent, "message": job.message, "created_at": utc(job.created_at),
            "updated_at": utc(job.updated_at)}


from . import api_people  # noqa: E402, F401  (registers its operations on this router)
