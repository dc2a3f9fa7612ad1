"""REST resources for people and their settings: the user's own profile, API tokens and saved views;
users and teams for administrators. Thin: every write is one call into core.people_services.
On the core router (imported at the end of core/api.py): one path, e.g. /users/me, must live in one router."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Schema, Status

from . import people_services as people
from .api import ERRORS, READ_ONE, WRITE, WRITE_ONE, Id, MeOut, TeamOut, UserOut, actor, get_me, router, user_item
from .models import ApiToken, SavedView, Team, User
from .services import create_token, revoke_token


class MePatch(Schema):
    first_name: str = Field(None, max_length=150)
    last_name: str = Field(None, max_length=150)
    email: str = Field(None, max_length=254)
    language: str = Field(None, max_length=10, description="`zh-hans`, `en`, or empty for the site default")
    time_zone: str = Field(None, max_length=64, description="e.g. `Asia/Shanghai`; empty for the site default")


class UserIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=200)
    role: str = Field("sales_rep", max_length=20)
    team_id: int | None = None
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    email: str = Field("", max_length=254)


class UserPatch(Schema):
    role: str = Field(None, max_length=20)
    team_id: int | None = None
    is_active: bool = None
    first_name: str = Field(None, max_length=150)
    last_name: str = Field(None, max_length=150)
    email: str = Field(None, max_length=254)


class TeamIn(Schema):
    name: str = Field(..., max_length=100)
    parent_id: int | None = None


class TeamPatch(Schema):
    name: str = Field(None, max_length=100)
    parent_id: int | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class TokenIn(Schema):
    name: str = Field(..., max_length=100)


class NewTokenOut(TokenOut):
    token: str = Field(..., description="The secret; shown this one time only.")


class SavedViewOut(Schema):
    id: int
    model: str
    name: str
    query: str


class SavedViewIn(Schema):
    model: str = Field(..., max_length=30, description="`account` or `contact`")
    name: str = Field(..., max_length=100)
    query: str = Field("", max_length=2000, description="The list's query string, e.g. `classification=A&sort=name`")


class SavedViewQuery(Schema):
    model: str | None = Field(None, max_length=30)



def _team_out(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "parent_id": team.parent_id, "path": team.path}


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {"id": token.pk, "name": token.name, "prefix": token.prefix, "created_at": token.created_at,
            "last_used_at": token.last_used_at}


@router.patch("/users/me", response={200: MeOut, **ERRORS}, tags=["users"])
def update_me(request: HttpRequest, payload: MePatch):
    """Your own names, email, language and time zone."""
    people.update_me(actor(request), payload.model_dump(exclude_unset=True))
    return get_me(request)


@router.post("/users", response={201: UserOut, **WRITE}, tags=["users"])
def add_user(request: HttpRequest, payload: UserIn):
    """Administrators: add a user with a role and a team."""
    user = people.add_user(actor(request), payload.model_dump())
    return Status(201, user_item(user))


@router.patch("/users/{id}", response={200: UserOut, **WRITE_ONE}, tags=["users"])
def update_user(request: HttpRequest, id: Id, payload: UserPatch):
    """Administrators: change a user's role, team, names or email, or deactivate them (`is_active`)."""
    target = get_object_or_404(User.objects.select_related("team"), pk=id)
    return user_item(people.update_user(actor(request), target, payload.model_dump(exclude_unset=True)))


@router.post("/teams", response={201: TeamOut, **WRITE}, tags=["users"])
def add_team(request: HttpRequest, payload: TeamIn):
    """Administrators: add a team, optionally under a parent team."""
    return Status(201, _team_out(people.add_team(actor(request), payload.name, payload.parent_id)))


@router.patch("/teams/{id}", response={200: TeamOut, **WRITE_ONE}, tags=["users"])
def update_team(request: HttpRequest, id: Id, payload: TeamPatch):
    """Administrators: rename a team or move it under another parent (its sub-teams move with it)."""
    team = get_object_or_404(Team, pk=id)
    return _team_out(people.update_team(actor(request), team, payload.model_dump(exclude_unset=True)))


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, tags=["tokens"])
def list_tokens(request: HttpRequest):
    """Your API tokens (never their secrets)."""
    return [_token_out(t) for t in ApiToken.objects.filter(user=actor(request)).order_by("-created_at")]


@router.post("/tokens", response={201: NewTokenOut, **ERRORS}, tags=["tokens"])
def add_token(request: HttpRequest, payload: TokenIn):
    """A new token acting as you; the secret is in this answer only."""
    user = actor(request)
    secret = create_token(user, payload.name)
    token = ApiToken.objects.get(user=user, prefix=secret[:10], name=payload.name.strip())
    return Status(201, {**_token_out(token), "token": secret})


@router.delete("/tokens/{id}", response={204: None, **READ_ONE}, tags=["tokens"])
def delete_token(request: HttpRequest, id: Id):
    """Revoke one of your tokens."""
    try:
        revoke_token(actor(request), id)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    return Status(204, None)


@router.get("/saved-views", response={200: list[SavedViewOut], **ERRORS}, tags=["saved views"])
def list_saved_views(request: HttpRequest, params: Query[SavedViewQuery]):
    """Your saved list views; open one as `/api/v1/<model>s?<query>`."""
    views = SavedView.objects.filter(user=actor(request))
    if params.model:
        views = views.filter(model=params.model)
    return [{"id": v.pk, "model": v.model, "name": v.name, "query": v.query} for v in views]


@router.post("/saved-views", response={201: SavedViewOut, **ERRORS}, tags=["saved views"])
def add_saved_view(request: HttpRequest, payload: SavedViewIn):
    """Save a list's filters and sort under a name (the same name again replaces it)."""
    view = people.save_view(actor(request), payload.model, payload.name, payload.query)
    return Status(201, {"id": view.pk, "model": view.model, "name": view.name, "query": view.query})


@router.delete("/saved-views/{id}", response={204: None, **READ_ONE}, tags=["saved views"])
def delete_saved_view(request: HttpRequest, id: Id):
    try:
        people.delete_view(actor(request), id)
    except SavedView.DoesNotExist:
        raise Http404 from None
    return Status(204, None)
