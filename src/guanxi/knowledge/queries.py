"""Reading the knowledge base: ranked search with keyset paging, suggestions, FAQ statistics and the
bulletin board. Every query starts from a `visible_to` queryset."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import MANAGER_ROLES, User
from guanxi.core.paging import Page, decode_cursor, encode_cursor
from guanxi.core.search import matching

from .models import (
    Article,
    ArticleStatus,
    Bulletin,
    BulletinRead,
    SearchLog,
    SearchSource,
    Visibility,
    audience_of,
    is_staff,
)
from .text import keywords

TITLE_WEIGHT = 3  # a word in the title counts this much, one only in the body 1
RANK = "rank"


def _score(terms: list[str]) -> Any:
    total: Any = Value(0)
    for term in terms:
        total = total + Case(When(title__icontains=term, then=Value(TITLE_WEIGHT)),
                             When(search_text__contains=term, then=Value(1)), default=Value(0),
                             output_field=IntegerField())
    return total


def search(qs: QuerySet[Article], query: str) -> QuerySet[Article]:
    """Articles of `qs` containing every keyword of `query` (jieba words for Chinese), annotated with `score`:
    title matches above body matches."""
    terms = keywords(query)
    if not terms:  # only punctuation or stop words: nothing matches, but the page still sorts by score
        return qs.none().annotate(score=Value(0, output_field=IntegerField()))
    return matching(qs, " ".join(terms)).annotate(score=_score(terms))


def search_page(qs: QuerySet[Article], query: str, *, cursor: str | None, limit: int) -> Page:
    """One page of ranked results, best first; the cursor is (score, id) of the last row."""
    ranked = search(qs, query)
    if cursor:
        score, pk = decode_cursor(cursor, RANK, None)
        if not isinstance(score, int) or isinstance(score, bool):
            raise ValidationError({"cursor": [_("This page link is not valid any more; start from the first page.")]})
        ranked = ranked.filter(Q(score__lt=score) | Q(score=score, pk__lt=pk))
    rows = list(ranked.order_by("-score", "-pk")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(RANK, rows[-1].score, rows[-1].pk)
    return Page(items=rows, next_cursor=next_cursor, sort=RANK)


SUGGEST_PER_TERM = 500  # matches read per keyword; a keyword matching more is scored in SQL (see suggestions)


class SuggestionCache:
    """What suggestions read, kept for a run of them (an email batch): each keyword's matching articles and each
    article's title and helpful count. Articles are not edited by the callers that hold one, and a run is short
    (one transaction), so nothing read here goes stale within it. `counts` gathers how often each article was
    suggested (knowledge.services writes them once, at the end of the run)."""

    def __init__(self) -> None:
        self.term_ids: dict[tuple[str, bool], frozenset[int] | None] = {}  # None: more than SUGGEST_PER_TERM
        self.rows: dict[int, tuple[str, int]] = {}  # id → (title lower-cased, helpful_count)
        self.articles: dict[int, Article] = {}
        self.counts: dict[int, int] = {}

    def checkpoint(self) -> dict[int, int]:
        return dict(self.counts)

    def restore(self, counts: dict[int, int]) -> None:
        """Forget the suggestions counted since `checkpoint` (their message was rolled back)."""
        self.counts = dict(counts)


def _published(public_only: bool) -> QuerySet[Article]:
    base = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    return base.filter(visibility=Visibility.PUBLIC) if public_only else base


def _term_ids(cache: SuggestionCache, term: str, public_only: bool) -> frozenset[int] | None:
    key = (term, public_only)
    if key not in cache.term_ids:
        ids = list(matching(_published(public_only), term).values_list("pk", flat=True)[:SUGGEST_PER_TERM + 1])
        cache.term_ids[key] = frozenset(ids) if len(ids) <= SUGGEST_PER_TERM else None
    return cache.term_ids[key]


def _load(cache: SuggestionCache, ids: set[int]) -> None:
    missing = ids - cache.rows.keys()
    if missing:
        for pk, title, helpful in Article.objects.filter(pk__in=missing).values_list("pk", "title", "helpful_count"):
            cache.rows[pk] = (title.lower(), helpful)


def suggestions(text: str, *, public_only: bool, limit: int = 5, cache: SuggestionCache | None = None
                ) -> list[Article]:
    """Published articles matching any keyword of `text`, the most matched (title first) on top.

    Each keyword's matches come through the search index; the score (TITLE_WEIGHT for a keyword in the title,
    1 for one only in the text) is then added up here from those matches and the titles, so that a `cache`
    shared by many suggestions reads each keyword and each article once. A keyword matching more than
    SUGGEST_PER_TERM articles has matches beyond those read: the score is then computed by the database."""
    terms = keywords(text)
    if not terms:
        return []
    cache = cache or SuggestionCache()
    matches = {term: _term_ids(cache, term, public_only) for term in terms}
    if any(ids is None for ids in matches.values()):
        return _scored_in_sql(terms, public_only, limit)
    ids: set[int] = set().union(*matches.values())
    if not ids:
        return []
    _load(cache, ids)
    ranked = []
    for pk in ids:
        title, helpful = cache.rows[pk]
        score = sum(TITLE_WEIGHT if term in title else 1 if pk in matches[term] else 0 for term in terms)
        ranked.append((-score, -helpful, -pk))
    ranked.sort()
    top = [-pk for _score, _helpful, pk in ranked[:limit]]
    missing = [pk for pk in top if pk not in cache.articles]
    if missing:
        cache.articles.update(Article.objects.in_bulk(missing))
    out = []
    for score, _helpful, pk in ranked[:limit]:
        article = copy.copy(cache.articles[-pk])
        article.score = -score
        out.append(article)
    return out


def _scored_in_sql(terms: list[str], public_only: bool, limit: int) -> list[Article]:
    base = _published(public_only)
    ids: set[int] = set()
    for term in terms:  # each word through the index; an article needs only one of them
        ids.update(matching(base, term).values_list("pk", flat=True)[:SUGGEST_PER_TERM])
    return list(base.filter(pk__in=ids).annotate(score=_score(terms))
                .order_by("-score", "-helpful_count", "-pk")[:limit])


# ------------------------------------------------------------------ FAQ statistics


@dataclass
class Deflection:
    searches: int
    deflected: int
    ticketed: int

    @property
    def unknown(self) -> int:
        return self.searches - self.deflected - self.ticketed

    @property
    def rate(self) -> float | None:
        """Portal searches that ended without a ticket, of all portal searches."""
        return self.deflected / self.searches if self.searches else None


def period(days: int) -> tuple[dt.datetime, dt.datetime]:
    until = timezone.now()
    return until - dt.timedelta(days=days), until


def top_questions(since: dt.datetime, until: dt.datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The most asked questions (searches grouped by their normalised keywords), with an example wording,
    how many found nothing and how many opened an article."""
    return list(
        SearchLog.objects.filter(created_at__gte=since, created_at__lt=until).exclude(normalized="")
        .values("normalized")
        .annotate(count=Count("id"), example=Min("query"),
                  no_results=Sum(Case(When(results_count=0, then=1), default=0, output_field=IntegerField())),
                  clicked=Count("clicked_article"))
        .order_by("-count", "normalized")[:limit]
    )


def deflection(since: dt.datetime, until: dt.datetime) -> Deflection:
    row = SearchLog.objects.filter(source=SearchSource.PORTAL, created_at__gte=since, created_at__lt=until).aggregate(
        searches=Count("id"), deflected=Count("id", filter=Q(ended_without_ticket=True)),
        ticketed=Count("id", filter=Q(ended_without_ticket=False)))
    return Deflection(**row)


def article_stats(user: User, order: str = "-view_count", limit: int = 20) -> list[Article]:
    """Per article: views, suggestions, helpful and not-helpful votes (one query)."""
    allowed = {"-view_count", "-suggested_count", "-helpful_count", "-not_helpful_count"}
    return list(Article.objects.visible_to(user).filter(status=ArticleStatus.PUBLISHED)
                .order_by(order if order in allowed else "-view_count", "-pk")
                .only("id", "title", "view_count", "suggested_count", "helpful_count", "not_helpful_count",
                      "visibility")[:limit])


# ------------------------------------------------------------------ bulletin board


def bulletins(user: User, *, include_expired: bool = False, kind: str | None = None) -> QuerySet[Bulletin]:
    """The board for `user` (of one `kind` when given): pinned first, newest next, each with `is_read` and
    `comment_count`."""
    qs = Bulletin.objects.visible_to(user)
    if not include_expired:
        qs = qs.current()
    if kind:
        qs = qs.filter(kind=kind)
    return (qs.select_related("author", "team")
            .annotate(is_read=Exists(BulletinRead.objects.filter(bulletin=OuterRef("pk"), user=user)),
                      comment_count=Count("comments", distinct=True))
            .order_by("-pinned", "-created_at", "-pk"))


def may_see_receipts(user: User, bulletin: Bulletin) -> bool:
    """Who read a bulletin is shown to its author, administrators and managers (of their own teams' members)."""
    return is_staff(user) and (user.is_administrator or bulletin.author_id == user.pk or user.role in MANAGER_ROLES)


@dataclass
class Receipts:
    """A bulletin's audience (as far as the viewer may see it): who read it when, earliest first, and who not."""

    read: list[User]  # each with `read_at`
    unread: list[User]

    @property
    def total(self) -> int:
        return len(self.read) + len(self.unread)


def receipts(user: User, bulletin: Bulletin) -> Receipts | None:
    """The read receipts of `bulletin` among its audience (None when `user` may not see them), in one query.
    A manager who is neither the author nor an administrator sees the members of their own teams only; a
    reader who has left the audience (moved team, deactivated) is not counted."""
    if not may_see_receipts(user, bulletin):
        return None
    people = audience_of(bulletin)
    if not (user.is_administrator or bulletin.author_id == user.pk):
        people = people.filter(team_id__in=user.visible_team_ids())
    rows = list(people.annotate(read_at=Subquery(BulletinRead.objects.filter(bulletin=bulletin, user=OuterRef("pk"))
                                                 .values("read_at")[:1]))
                .only("id", "username", "first_name", "last_name")
                .order_by(F("read_at").asc(nulls_last=True), "username", "pk"))
    return Receipts(read=[u for u in rows if u.read_at is not None], unread=[u for u in rows if u.read_at is None])


def unread_count(user: User) -> int:
    return Bulletin.objects.visible_to(user).current().exclude(reads__user=user).count()
