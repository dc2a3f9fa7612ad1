"""Knowledge-base use cases: one function per user action, each in one transaction, changes audited.

Bad input raises ValidationError keyed by field and changes nothing; a stale `version` raises EditConflict.
Portal visitors have no user: they are `user=None` with a `visitor_key` (the portal's cookie).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, Team, User
from guanxi.core.records import (
    check_version,
    clean_fields,
    diff,
    fail,
    int_or_none,
    resolve_tags,
    snapshot,
    write_audit,
)
from guanxi.quality.normalize import clean_text

from . import markup, queries
from .models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    ArticleVersion,
    Bulletin,
    BulletinComment,
    BulletinRead,
    Category,
    SearchLog,
    SearchSource,
    Visibility,
    is_editor,
    is_staff,
)
from .text import normalize_question

ARTICLE_FIELDS = ["title", "body", "visibility", "language"]
AUDITED = ARTICLE_FIELDS + ["category_id", "status"]
BULLETIN_AUDITED = ["title", "body", "kind", "pinned", "team_id", "expires_at"]
MAX_VISITOR_KEY = 64


def _require_editor(actor: User | None) -> None:
    if not is_editor(actor):
        raise PermissionDenied(_("Your role may not change the knowledge base."))


def _body(value: Any) -> Any:
    """Line breaks kept (Markdown needs them), control characters dropped."""
    if not isinstance(value, str):
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch >= " " or ch in "\n\t").strip()


def article_search_text(title: str, body: str, tag_names: list[str]) -> str:
    return clean_text(" ".join([title, body, *tag_names])).lower()


def _reindex(article: Article) -> None:
    tags = [t.name for t in article.tags.all()]
    text = article_search_text(article.title, article.body, tags)
    if text != article.search_text:
        article.search_text = text
        Article.objects.filter(pk=article.pk).update(search_text=text)


# ------------------------------------------------------------------ categories


@transaction.atomic
def create_category(actor: User, data: dict[str, Any]) -> Category:
    _require_editor(actor)
    data = {**data, "name": clean_text(data.get("name")) if isinstance(data.get("name"), str) else data.get("name")}
    cleaned, errors = clean_fields(Category, data, ["name"], partial=False)
    parent = None
    if data.get("parent_id") not in (None, ""):
        parent = Category.objects.filter(pk=int_or_none(data["parent_id"])).first()
        if parent is None:
            errors["parent_id"] = [_("No such category.")]
    fail(errors)
    category = Category.objects.create(name=cleaned["name"], parent=parent)
    write_audit(category, actor, AuditAction.CREATE, {"name": [None, category.name]})
    return category


# ------------------------------------------------------------------ articles


def _clean_article(data: dict[str, Any], article: Article | None) -> tuple[dict[str, Any], list | None]:
    partial = article is not None
    data = dict(data)
    if isinstance(data.get("title"), str):
        data["title"] = clean_text(data["title"])
    if "body" in data:
        data["body"] = _body(data["body"])
    cleaned, errors = clean_fields(Article, data, ARTICLE_FIELDS, partial=partial)
    if "category_id" in data or not partial:
        value = data.get("category_id")
        cleaned["category"] = None
        if value not in (None, ""):
            cleaned["category"] = Category.objects.filter(pk=int_or_none(value)).first()
            if cleaned["category"] is None:
                errors["category_id"] = [_("No such category.")]
    tags = None
    if "tags" in data:
        tags, tag_errors = resolve_tags(data["tags"])
        if tag_errors:
            errors["tags"] = tag_errors
    if data.get("status") not in (None, "") and data["status"] not in (ArticleStatus.DRAFT, ArticleStatus.PUBLISHED):
        errors["status"] = [_("A new article is a draft or published.")]
    fail(errors)
    return cleaned, tags


def _keep_version(current: Article) -> None:
    """The published text about to change, kept as version `current.version`."""
    ArticleVersion.objects.create(article=current, number=current.version, title=current.title, body=current.body,
                                  editor_id=current.editor_id or current.author_id, edited_at=current.updated_at)


def _locked(article: Article, version: Any, data: dict[str, Any] | None = None) -> Article:
    current = Article.objects.select_for_update().get(pk=article.pk)
    check_version(current, version, data)
    return current


@transaction.atomic
def create_article(actor: User, data: dict[str, Any]) -> Article:
    """A draft, or published at once when `status` is "published"."""
    _require_editor(actor)
    cleaned, tags = _clean_article(data, None)
    article = Article(**cleaned, author=actor, editor=actor)
    if data.get("status") == ArticleStatus.PUBLISHED:
        article.status = ArticleStatus.PUBLISHED
        article.published_at = timezone.now()
    article.save()
    if tags:
        article.tags.set(tags)
    _reindex(article)
    after = snapshot(article, AUDITED)
    write_audit(article, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    return article


@transaction.atomic
def update_article(actor: User, article: Article, data: dict[str, Any], version: Any) -> Article:
    """Change the fields given; while published, the previous title and body are kept as a version."""
    _require_editor(actor)
    current = _locked(article, version, data)
    cleaned, tags = _clean_article(data, current)
    before = snapshot(current, AUDITED)
    text_changes = any(cleaned.get(k, getattr(current, k)) != getattr(current, k) for k in ("title", "body"))
    if current.status == ArticleStatus.PUBLISHED and text_changes:
        _keep_version(current)
    for key, value in cleaned.items():
        setattr(current, key, value)
    current.editor = actor
    current.version += 1
    current.save()
    if tags is not None:
        current.tags.set(tags)
    _reindex(current)
    write_audit(current, actor, AuditAction.UPDATE, diff(before, snapshot(current, AUDITED)))
    return current


def _set_status(actor: User, article: Article, version: Any, status: str) -> Article:
    _require_editor(actor)
    current = _locked(article, version)
    if current.status == status:
        return current
    before = snapshot(current, AUDITED)
    current.status = status
    if status == ArticleStatus.PUBLISHED and current.published_at is None:
        current.published_at = timezone.now()
    current.version += 1
    current.save()
    write_audit(current, actor, AuditAction.UPDATE, diff(before, snapshot(current, AUDITED)))
    return current


@transaction.atomic
def publish_article(actor: User, article: Article, version: Any) -> Article:
    return _set_status(actor, article, version, ArticleStatus.PUBLISHED)


@transaction.atomic
def archive_article(actor: User, article: Article, version: Any) -> Article:
    """Out of search and suggestions; editors still find it (and can publish it again)."""
    return _set_status(actor, article, version, ArticleStatus.ARCHIVED)


@transaction.atomic
def restore_version(actor: User, article: Article, number: Any, version: Any) -> Article:
    """The title and body of an earlier version become the current ones (the replaced text is kept too)."""
    _require_editor(actor)
    old = ArticleVersion.objects.filter(article=article, number=int_or_none(number)).first()
    if old is None:
        fail({"number": [_("No such version of this article.")]})
    return update_article(actor, article, {"title": old.title, "body": old.body}, version)


def record_view(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


@transaction.atomic
def rate_article(article: Article, *, helpful: Any, user: User | None = None, visitor_key: str = "",
                 comment: str = "") -> ArticleFeedback:
    """'Was this helpful?': one vote per voter per article; voting again replaces the earlier vote."""
    errors: dict[str, list[str]] = {}
    if not isinstance(helpful, bool):
        errors["helpful"] = [_("Enter true or false.")]
    voter = user if is_staff(user) else None
    key = clean_text(visitor_key)[:MAX_VISITOR_KEY] if isinstance(visitor_key, str) else ""
    if voter is None and not key:
        errors["visitor_key"] = [_("An anonymous vote needs the visitor's key.")]
    comment = _body(comment) if isinstance(comment, str) else ""
    if len(comment) > 2000:
        errors["comment"] = [_("At most %(max)s characters.") % {"max": 2000}]
    fail(errors)
    lookup = {"user": voter} if voter else {"user": None, "visitor_key": key}
    Article.objects.select_for_update().filter(pk=article.pk).first()  # votes on one article queue here
    feedback = ArticleFeedback.objects.filter(article=article, **lookup).first()
    old = feedback.helpful if feedback else None
    if feedback is None:
        feedback = ArticleFeedback(article=article, **lookup)
    feedback.helpful = helpful
    feedback.comment = comment or feedback.comment
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:  # two tabs voting at once: the other vote stands
        raise ValidationError({"helpful": [_("You have voted on this article already.")]})
    if old != helpful:
        counts = {"helpful_count" if helpful else "not_helpful_count": F("helpful_count" if helpful else
                                                                          "not_helpful_count") + 1}
        if old is not None:
            name = "helpful_count" if old else "not_helpful_count"
            counts[name] = F(name) - 1
        Article.objects.filter(pk=article.pk).update(**counts)
        write_audit(article, voter, AuditAction.UPDATE, {"feedback": [old, helpful]})
    return feedback


def suggest_articles(text: str, *, public_only: bool, limit: int = 5, count: bool = True,
                     batch: queries.SuggestionCache | None = None) -> list[Article]:
    """Published articles for what someone is writing (a reply, a ticket): its keywords searched, the
    articles matching most of them first, title matches above body ones. Counted as suggested — inside a
    `suggestion_batch`, when the batch ends."""
    articles = queries.suggestions(text, public_only=public_only, limit=limit, cache=batch)
    if count and articles:
        if batch is not None:
            for article in articles:
                batch.counts[article.pk] = batch.counts.get(article.pk, 0) + 1
        else:
            Article.objects.filter(pk__in=[a.pk for a in articles]).update(suggested_count=F("suggested_count") + 1)
    return articles


@contextlib.contextmanager
def suggestion_batch() -> Iterator[queries.SuggestionCache]:
    """Many suggestions in one transaction (an email batch): they share what they read, and the articles'
    suggested counts are added up and written once, when the block ends without an error. Call inside the
    transaction that stores what the suggestions are for."""
    batch = queries.SuggestionCache()
    yield batch
    by_count: dict[int, list[int]] = {}
    for pk, n in batch.counts.items():
        by_count.setdefault(n, []).append(pk)
    for n, ids in sorted(by_count.items()):
        Article.objects.filter(pk__in=ids).update(suggested_count=F("suggested_count") + n)


@dataclass(frozen=True)
class Suggestion:
    """An article proposed for an answer, and what an agent's reply quotes of it: its title and, for a public
    article, the customer portal's link to it; an internal one is quoted by its text (the customer cannot open it)."""

    article: Article
    url: str
    reply_text: str


def article_link(article: Article) -> str:
    """The customer portal's address of an article (public ones only are readable there)."""
    return settings.SITE_URL + reverse("portal:article", args=[article.pk])


def quoted(article: Article) -> Suggestion:
    """What an agent's reply quotes of an article: a public one's title and portal link, an internal one's title
    and text (the customer cannot open it)."""
    if article.visibility == Visibility.PUBLIC and article.status == ArticleStatus.PUBLISHED:
        url = article_link(article)
        return Suggestion(article, url, f"{article.title}: {url}")
    return Suggestion(article, "", f"{article.title}\n\n{markup.plain(article.body, 2000)}".strip())


def suggest(text: str, user: User | None, limit: int = 3) -> list[Suggestion]:
    """The knowledge base's best matches for a question (a ticket's subject and description, an e-mail), among
    the articles `user` may read that are published, each with the text to put into a reply. Counted as
    suggested. Shared by the staff ticket page and the e-mail channel."""
    public_only = user is None or not is_staff(user)  # as Article.visible_to: staff read every published one
    articles = suggest_articles(text, public_only=public_only, limit=limit) if text.strip() else []
    return [quoted(article) for article in articles]


# ------------------------------------------------------------------ search log (FAQ statistics, deflection)


def record_search(query: str, *, results_count: int, user: User | None = None, visitor_key: str = "",
                  source: str = SearchSource.AGENT, language: str = "") -> SearchLog | None:
    """Keep a search for the FAQ statistics; nothing is kept for an empty query."""
    text = clean_text(query)[:200]
    if not text:
        return None
    return SearchLog.objects.create(
        query=text, normalized=normalize_question(text), language=(language or "")[:7],
        source=source if source in SearchSource.values else SearchSource.AGENT,
        user=user if is_staff(user) else None, visitor_key=clean_text(visitor_key)[:MAX_VISITOR_KEY],
        results_count=max(0, int(results_count)))


@transaction.atomic
def mark_search(log: SearchLog, *, clicked_article: Article | None = None,
                ended_without_ticket: bool | None = None) -> SearchLog:
    """The portal says what came of a search: the article opened, and whether the visit ended without a
    ticket (deflected) or a ticket followed."""
    if ended_without_ticket is not None and not isinstance(ended_without_ticket, bool):
        fail({"ended_without_ticket": [_("Enter true or false.")]})
    if clicked_article is not None:
        log.clicked_article = clicked_article
    if ended_without_ticket is not None:
        log.ended_without_ticket = ended_without_ticket
    log.save(update_fields=["clicked_article", "ended_without_ticket"])
    return log


def end_idle_searches(now: dt.datetime, idle: dt.timedelta) -> int:
    """Portal searches nobody marked for `idle` ended without a ticket: a ticket the visitor submitted would
    have marked them (the portal does on submit), so the visit left without one — deflected. Idempotent."""
    return SearchLog.objects.filter(source=SearchSource.PORTAL, ended_without_ticket__isnull=True,
                                    created_at__lt=now - idle).update(ended_without_ticket=True)


# ------------------------------------------------------------------ bulletins


def _may_manage(actor: User, bulletin: Bulletin) -> bool:
    return actor.is_administrator or bulletin.author_id == actor.pk


def _audience(actor: User, value: Any, errors: dict) -> Team | None:
    if value in (None, ""):
        return None
    team = Team.objects.filter(pk=int_or_none(value)).first()
    allowed = actor.is_administrator or (team is not None and (
        team.pk == actor.team_id or team.pk in actor.visible_team_ids()))
    if team is None or not allowed:
        errors["team_id"] = [_("Choose your own team (or one you manage), or everyone.")]
    return team


def _expiry(value: Any, errors: dict) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            errors["expires_at"] = [_("Enter a date and time in ISO 8601.")]
            return None
    if not isinstance(value, dt.datetime):
        errors["expires_at"] = [_("Enter a date and time in ISO 8601.")]
        return None
    return value if value.tzinfo else timezone.make_aware(value)


@transaction.atomic
def post_bulletin(actor: User, data: dict[str, Any]) -> Bulletin:
    _require_editor(actor)
    data = dict(data)
    if isinstance(data.get("title"), str):
        data["title"] = clean_text(data["title"])
    if "body" in data:
        data["body"] = _body(data["body"])
    if data.get("kind") in (None, ""):  # not chosen: an announcement
        data.pop("kind", None)
    cleaned, errors = clean_fields(Bulletin, data, ["title", "body", "kind"], partial=False)
    team = _audience(actor, data.get("team_id"), errors)
    expires_at = _expiry(data.get("expires_at"), errors)
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("Choose a time in the future.")]
    pinned = bool(data.get("pinned")) and (actor.is_administrator or actor.role in ("sales_manager",
                                                                                    "service_manager"))
    fail(errors)
    bulletin = Bulletin.objects.create(**cleaned, team=team, expires_at=expires_at, pinned=pinned, author=actor)
    BulletinRead.objects.create(bulletin=bulletin, user=actor)  # the author has read it
    after = snapshot(bulletin, BULLETIN_AUDITED)
    write_audit(bulletin, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    return bulletin


def _change_bulletin(actor: User, bulletin: Bulletin, **values: Any) -> Bulletin:
    _require_editor(actor)
    current = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if not _may_manage(actor, current):
        raise PermissionDenied(_("Only its author or an administrator may change this bulletin."))
    before = snapshot(current, BULLETIN_AUDITED)
    for key, value in values.items():
        setattr(current, key, value)
    current.version += 1
    current.save()
    write_audit(current, actor, AuditAction.UPDATE, diff(before, snapshot(current, BULLETIN_AUDITED)))
    return current


@transaction.atomic
def pin_bulletin(actor: User, bulletin: Bulletin, pinned: bool = True) -> Bulletin:
    """Pinned bulletins head the board (author or administrator)."""
    return _change_bulletin(actor, bulletin, pinned=bool(pinned))


@transaction.atomic
def expire_bulletin(actor: User, bulletin: Bulletin) -> Bulletin:
    """Take a bulletin off the board now (author or administrator)."""
    return _change_bulletin(actor, bulletin, expires_at=timezone.now())


def mark_read(user: User, bulletin: Bulletin) -> None:
    """A read receipt, once per user (reading again keeps the first time)."""
    BulletinRead.objects.get_or_create(bulletin=bulletin, user=user)


@transaction.atomic
def comment_bulletin(actor: User, bulletin: Bulletin, body: Any) -> BulletinComment:
    if not is_staff(actor):
        raise PermissionDenied(_("Sign in to comment."))
    text = _body(body) if isinstance(body, str) else ""
    if not text:
        fail({"body": [_("This field is required.")]})
    if len(text) > 4000:
        fail({"body": [_("At most %(max)s characters.") % {"max": 4000}]})
    comment = BulletinComment.objects.create(bulletin=bulletin, author=actor, body=text)
    write_audit(bulletin, actor, AuditAction.UPDATE, {"comment": [None, text[:200]]})
    return comment


