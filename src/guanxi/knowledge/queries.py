"""Reading the knowledge base: ranked search with keyset paging, suggestions, FAQ statistics and the
bulletin board. Every query starts from a `visible_to` queryset."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, IntegerField, Min, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.paging import Page, decode_cursor, encode_cursor
from guanxi.core.search import matching

from .models import Article, ArticleStatus, Bulletin, BulletinRead, SearchLog, SearchSource, Visibility
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


def suggestions(text: str, *, public_only: bool, limit: int = 5) -> list[Article]:
    """Published articles matching any keyword of `text`, the most matched (title first) on top."""
    terms = keywords(text)
    if not terms:
        return []
    base = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    if public_only:
        base = base.filter(visibility=Visibility.PUBLIC)
    ids: set[int] = set()
    for term in terms:  # each word through the index; an article needs only one of them
        ids.update(matching(base, term).values_list("pk", flat=True)[:500])
    if not ids:
        return []
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


def bulletins(user: User, *, include_expired: bool = False) -> QuerySet[Bulletin]:
    """The board for `user`: pinned first, newest next, each with `is_read` and `comment_count`."""
    qs = Bulletin.objects.visible_to(user)
    if not include_expired:
        qs = qs.current()
    return (qs.select_related("author", "team")
            .annotate(is_read=Exists(BulletinRead.objects.filter(bulletin=OuterRef("pk"), user=user)),
                      comment_count=Count("comments", distinct=True))
            .order_by("-pinned", "-created_at", "-pk"))


def unread_count(user: User) -> int:
    return Bulletin.objects.visible_to(user).current().exclude(reads__user=user).count()
