"""REST resources of the knowledge base: articles (ranked search with a cursor, CRUD with versions, feedback,
suggestions while writing), searches (the portal marks how they ended) and the bulletin board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import (
    CONFLICT_SERIALIZERS,
    CURSOR,
    ERRORS,
    LIMIT,
    READ_ONE,
    WRITE,
    WRITE_ONE,
    Id,
    Ref,
    actor,
    page_out,
    ref,
    utc,
)
from guanxi.core.models import User
from guanxi.core.paging import paginate

from . import markup, queries, services
from .models import Article, ArticleStatus, Bulletin, BulletinKind, Language, SearchLog, SearchSource, Visibility

router = Router()
TAG = ["knowledge base"]
BULLETIN_TAG = ["bulletins"]
Text = str | None
VERSION = Field(..., description="The version you read; a stale one gives 409.")

# ------------------------------------------------------------------ schemas


class ArticleOut(Schema):
    id: int
    version: int
    title: str
    body: str
    body_html: str = Field(description="The body rendered; the writer's HTML is escaped.")
    category: Ref | None
    visibility: str
    status: str
    language: str
    tags: list[str]
    author: Ref | None
    helpful_count: int
    not_helpful_count: int
    view_count: int
    suggested_count: int
    published_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ArticleSummary(Schema):
    id: int
    title: str
    excerpt: str
    visibility: str
    status: str
    language: str
    helpful_count: int
    score: int | None = Field(None, description="Search rank: title matches count more than body matches.")


class ArticlePage(Schema):
    items: list[ArticleSummary]
    next: str | None
    search_id: int | None = Field(None, description="With `q`: the logged search, for POST /searches/{id}.")


class ArticleConflict(Schema):
    detail: str
    current: ArticleOut


class ArticleQuery(Schema):
    q: str | None = Field(None, max_length=200, description="Words in Chinese or English; ranked results.")
    category: Id | None = None
    status: str | None = Field(None, json_schema_extra={"enum": list(ArticleStatus.values)})
    visibility: str | None = Field(None, json_schema_extra={"enum": list(Visibility.values)})
    language: str | None = Field(None, json_schema_extra={"enum": list(Language.values)})
    public_only: bool = Field(False, description="Only what a portal visitor may read.")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class _ArticleFields(Schema):
    body: Text = None
    category_id: Id | None = None
    visibility: str | None = Field(None, json_schema_extra={"enum": list(Visibility.values)})
    language: str | None = Field(None, json_schema_extra={"enum": list(Language.values)})
    tags: list[str] | None = Field(None, max_length=20)


class ArticleIn(_ArticleFields):
    title: str
    status: str = Field("draft", json_schema_extra={"enum": ["draft", "published"]})


class ArticlePatch(_ArticleFields):
    version: int = VERSION
    title: Text = None


class ArticleVersionIn(Schema):
    version: int = VERSION


class VersionOut(Schema):
    number: int
    title: str
    body: str
    editor: Ref | None
    edited_at: dt.datetime


class FeedbackIn(Schema):
    helpful: bool
    comment: str = Field("", max_length=2000)
    visitor_key: str = Field("", max_length=64, description="An anonymous portal visitor's key (not for users).")


class FeedbackOut(Schema):
    helpful: bool
    helpful_count: int
    not_helpful_count: int


class SuggestQuery(Schema):
    text: str = Field(..., max_length=5000, description="What is being written: a reply, a ticket.")
    public_only: bool = False
    limit: int = Field(5, ge=1, le=20)


class SuggestOut(Schema):
    items: list[ArticleSummary]


class SearchMarkIn(Schema):
    clicked_article_id: Id | None = None
    ended_without_ticket: bool | None = Field(None, description="True: the visit ended without a ticket.")


class SearchOutcomeOut(Schema):
    id: int
    query: str
    results_count: int
    clicked_article_id: int | None
    ended_without_ticket: bool | None


class BulletinOut(Schema):
    id: int
    version: int
    title: str
    body: str
    kind: BulletinKind
    pinned: bool
    team: Ref | None = Field(description="The audience; null is everyone.")
    author: Ref | None
    expires_at: dt.datetime | None
    is_read: bool
    comment_count: int
    created_at: dt.datetime


class BulletinPage(Schema):
    items: list[BulletinOut]
    next: str | None


class BulletinIn(Schema):
    title: str
    body: str = ""
    kind: BulletinKind | None = Field(None, description="What it is about; null is an announcement.")
    team_id: Id | None = Field(None, description="Audience: a team (and the teams below it); null is everyone.")
    pinned: bool = False
    expires_at: dt.datetime | None = None


class BulletinQuery(Schema):
    limit: int = LIMIT
    cursor: str | None = CURSOR
    kind: BulletinKind | None = Field(None, description="Only bulletins of this kind.")


class BulletinReader(Schema):
    user: Ref
    read_at: dt.datetime


class BulletinReceiptsOut(Schema):
    read_count: int
    audience_count: int = Field(description="Its audience, as far as you may see it (a manager: their teams).")
    read: list[BulletinReader] = Field(description="Who read it, earliest first.")
    not_read: list[Ref]


class CommentIn(Schema):
    body: str = Field(..., max_length=4000)


class CommentOut(Schema):
    id: int
    author: Ref | None
    body: str
    created_at: dt.datetime


# ------------------------------------------------------------------ articles


def _item(pk: int, user: User | None = None) -> dict[str, Any]:
    a = Article.objects.select_related("category", "author").prefetch_related("tags").get(pk=pk)
    return {"id": a.pk, "version": a.version, "title": a.title, "body": a.body, "body_html": markup.render(a.body),
            "category": ref(a.category), "visibility": a.visibility, "status": a.status, "language": a.language,
            "tags": sorted(t.name for t in a.tags.all()), "author": ref(a.author),
            "helpful_count": a.helpful_count, "not_helpful_count": a.not_helpful_count, "view_count": a.view_count,
            "suggested_count": a.suggested_count, "published_at": utc(a.published_at),
            "created_at": utc(a.created_at), "updated_at": utc(a.updated_at)}


CONFLICT_SERIALIZERS[Article] = _item


def summary(a: Article) -> dict[str, Any]:
    return {"id": a.pk, "title": a.title, "excerpt": markup.plain(a.body), "visibility": a.visibility,
            "status": a.status, "language": a.language, "helpful_count": a.helpful_count,
            "score": getattr(a, "score", None)}


def _visible(request: HttpRequest, id: int) -> Article:
    return get_object_or_404(Article.objects.visible_to(actor(request)), pk=id)


SUMMARY_FIELDS = ("id", "title", "body", "visibility", "status", "language", "helpful_count")


@router.get("/articles", response={200: ArticlePage, **ERRORS}, tags=TAG)
def list_articles(request: HttpRequest, params: Query[ArticleQuery]):
    """Articles you may read, newest first; with `q`, ranked search results (title matches first)."""
    user = actor(request)
    qs = Article.objects.visible_to(user, public_only=params.public_only).only(*SUMMARY_FIELDS)
    for name in ("status", "visibility", "language"):
        if getattr(params, name):
            qs = qs.filter(**{name: getattr(params, name)})
    if params.category:
        qs = qs.filter(category_id=params.category)
    if params.q and params.q.strip():
        if not params.status:
            qs = qs.filter(status=ArticleStatus.PUBLISHED)
        page = queries.search_page(qs, params.q, cursor=params.cursor, limit=params.limit)
        log = None
        if not params.cursor:  # one search, however many pages are read
            log = services.record_search(params.q, results_count=len(page.items), user=user,
                                         source=SearchSource.API, language=params.language or "")
        return {**page_out([summary(a) for a in page.items], page.next_cursor), "search_id": log and log.pk}
    page = paginate(qs, sort="-updated_at", allowed=["-updated_at"], cursor=params.cursor, limit=params.limit)
    return page_out([summary(a) for a in page.items], page.next_cursor)


@router.get("/articles/suggest", response={200: SuggestOut, **ERRORS}, tags=TAG)
def suggest(request: HttpRequest, params: Query[SuggestQuery]):
    """Published articles for a reply or ticket being written (its keywords, the best matches first)."""
    articles = services.suggest_articles(params.text, public_only=params.public_only, limit=params.limit)
    return {"items": [summary(a) for a in articles]}


@router.get("/articles/{id}", response={200: ArticleOut, **READ_ONE}, tags=TAG)
def get_article(request: HttpRequest, id: Id):
    """One article (counted as a view)."""
    article = _visible(request, id)
    services.record_view(article)
    return _item(article.pk)


@router.post("/articles", response={201: ArticleOut, **WRITE}, tags=TAG)
def create_article(request: HttpRequest, payload: ArticleIn):
    """A draft, or published at once with `status: published`."""
    article = services.create_article(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, _item(article.pk))


@router.patch("/articles/{id}", response={200: ArticleOut, **WRITE_ONE, 409: ArticleConflict}, tags=TAG)
def update_article(request: HttpRequest, id: Id, payload: ArticlePatch):
    """Change the fields sent; a published article keeps its previous title and body as a version."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return _item(services.update_article(actor(request), _visible(request, id), data, version).pk)


@router.post("/articles/{id}/publish", response={200: ArticleOut, **WRITE_ONE, 409: ArticleConflict}, tags=TAG)
def publish_article(request: HttpRequest, id: Id, payload: ArticleVersionIn):
    return _item(services.publish_article(actor(request), _visible(request, id), payload.version).pk)


@router.post("/articles/{id}/archive", response={200: ArticleOut, **WRITE_ONE, 409: ArticleConflict}, tags=TAG)
def archive_article(request: HttpRequest, id: Id, payload: ArticleVersionIn):
    return _item(services.archive_article(actor(request), _visible(request, id), payload.version).pk)


@router.get("/articles/{id}/versions", response={200: list[VersionOut], **READ_ONE}, tags=TAG)
def list_versions(request: HttpRequest, id: Id):
    """Earlier titles and bodies of a published article, newest first."""
    article = _visible(request, id)
    return [{"number": v.number, "title": v.title, "body": v.body, "editor": ref(v.editor),
             "edited_at": utc(v.edited_at)} for v in article.versions.select_related("editor")]


@router.post("/articles/{id}/versions/{number}/restore",
             response={200: ArticleOut, **WRITE_ONE, 409: ArticleConflict}, tags=TAG)
def restore_version(request: HttpRequest, id: Id, number: Id, payload: ArticleVersionIn):
    """That version's title and body become current (the replaced text is kept as a version too)."""
    return _item(services.restore_version(actor(request), _visible(request, id), number, payload.version).pk)


@router.post("/articles/{id}/feedback", response={200: FeedbackOut, **READ_ONE}, tags=TAG)
def rate_article(request: HttpRequest, id: Id, payload: FeedbackIn):
    """Was this helpful? One vote per user per article; voting again replaces the earlier vote."""
    article = _visible(request, id)
    feedback = services.rate_article(article, helpful=payload.helpful, user=actor(request),
                                     comment=payload.comment)
    article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
    return {"helpful": feedback.helpful, "helpful_count": article.helpful_count,
            "not_helpful_count": article.not_helpful_count}


@router.post("/searches/{id}", response={200: SearchOutcomeOut, **READ_ONE}, tags=TAG)
def mark_search(request: HttpRequest, id: Id, payload: SearchMarkIn):
    """What came of a search: the article opened, whether the visit ended without a ticket (deflection)."""
    log = get_object_or_404(SearchLog, pk=id)
    clicked = _visible(request, payload.clicked_article_id) if payload.clicked_article_id else None
    log = services.mark_search(log, clicked_article=clicked, ended_without_ticket=payload.ended_without_ticket)
    return {"id": log.pk, "query": log.query, "results_count": log.results_count,
            "clicked_article_id": log.clicked_article_id, "ended_without_ticket": log.ended_without_ticket}


# ------------------------------------------------------------------ bulletins


def bulletin_item(b: Bulletin) -> dict[str, Any]:
    return {"id": b.pk, "version": b.version, "title": b.title, "body": b.body, "kind": b.kind, "pinned": b.pinned,
            "team": ref(b.team), "author": ref(b.author), "expires_at": utc(b.expires_at),
            "is_read": b.is_read, "comment_count": b.comment_count, "created_at": utc(b.created_at)}


def _bulletin(request: HttpRequest, id: int) -> Bulletin:
    return get_object_or_404(queries.bulletins(actor(request), include_expired=True), pk=id)


@router.get("/bulletins", response={200: BulletinPage, **ERRORS}, tags=BULLETIN_TAG)
def list_bulletins(request: HttpRequest, params: Query[BulletinQuery]):
    """Current bulletins for you, newest first, with whether you have read each."""
    page = paginate(queries.bulletins(actor(request), kind=params.kind), sort="-created_at", allowed=["-created_at"],
                    cursor=params.cursor, limit=params.limit)
    return page_out([bulletin_item(b) for b in page.items], page.next_cursor)


@router.post("/bulletins", response={201: BulletinOut, **WRITE}, tags=BULLETIN_TAG)
def post_bulletin(request: HttpRequest, payload: BulletinIn):
    bulletin = services.post_bulletin(actor(request), payload.model_dump())
    return Status(201, bulletin_item(_bulletin(request, bulletin.pk)))


@router.get("/bulletins/{id}", response={200: BulletinOut, **READ_ONE}, tags=BULLETIN_TAG)
def get_bulletin(request: HttpRequest, id: Id):
    return bulletin_item(_bulletin(request, id))


@router.post("/bulletins/{id}/read", response={204: None, **READ_ONE}, tags=BULLETIN_TAG)
def read_bulletin(request: HttpRequest, id: Id):
    """A read receipt (once per user)."""
    services.mark_read(actor(request), _bulletin(request, id))
    return Status(204, None)


@router.get("/bulletins/{id}/reads", response={200: BulletinReceiptsOut, **WRITE_ONE}, tags=BULLETIN_TAG)
def bulletin_receipts(request: HttpRequest, id: Id):
    """Who of its audience read it when, and who has not: for its author, administrators and managers (who see
    their own teams' members)."""
    found = queries.receipts(actor(request), _bulletin(request, id))
    if found is None:
        raise PermissionDenied(_("Only its author, a manager or an administrator sees who read this bulletin."))
    return {"read_count": len(found.read), "audience_count": found.total,
            "read": [{"user": ref(u), "read_at": utc(u.read_at)} for u in found.read],
            "not_read": [ref(u) for u in found.unread]}


@router.post("/bulletins/{id}/comments", response={201: CommentOut, **READ_ONE}, tags=BULLETIN_TAG)
def comment_bulletin(request: HttpRequest, id: Id, payload: CommentIn):
    comment = services.comment_bulletin(actor(request), _bulletin(request, id), payload.body)
    return Status(201, {"id": comment.pk, "author": ref(comment.author), "body": comment.body,
                        "created_at": utc(comment.created_at)})
