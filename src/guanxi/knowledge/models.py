"""Knowledge base and bulletin board: categories, articles and their versions, feedback, the search log
(for FAQ statistics and deflection), bulletins with read receipts and comments.

Articles and bulletins are shared, not owned, so core's owner/team rule does not apply: who may read them is
decided here, once, by `visible_to` on each queryset (articles: published + public for everyone, internal for
staff, drafts for editors; bulletins: their audience).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import TimestampedModel, VersionedModel
from guanxi.core.models import Role, User


def is_staff(user: User | None) -> bool:
    """Guanxi users are the company's people; the portal's visitors are anonymous (no user)."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_editor(user: User | None) -> bool:
    """Who writes articles and sees drafts and archived ones: any staff user whose role may change records."""
    return is_staff(user) and user.can_edit


class Visibility(models.TextChoices):
    INTERNAL = "internal", pgettext_lazy("article visibility", "Internal")
    PUBLIC = "public", pgettext_lazy("article visibility", "Public")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("article status", "Draft")
    PUBLISHED = "published", pgettext_lazy("article status", "Published")
    ARCHIVED = "archived", pgettext_lazy("article status", "Archived")


class Language(models.TextChoices):
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("parent category"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ArticleQuerySet(models.QuerySet):
    def visible_to(self, user: User | None, *, public_only: bool = False) -> ArticleQuerySet:
        """Anonymous visitors (and `public_only` callers such as the portal): published public articles.
        Staff: every published article. Editors: drafts and archived ones too."""
        if public_only or not is_staff(user):
            return self.filter(status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)
        if is_editor(user):
            return self
        return self.filter(Q(status=ArticleStatus.PUBLISHED) | Q(author_id=user.pk))


class Article(VersionedModel, TimestampedModel):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, default="",
                            help_text=_("Plain text with Markdown: # headings, **bold**, - lists, [links](https://…)."))
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="articles")
    visibility = models.CharField(_("visibility"), max_length=8, choices=Visibility.choices,
                                  default=Visibility.INTERNAL)
    status = models.CharField(_("status"), max_length=9, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    language = models.CharField(_("language"), max_length=7, choices=Language.choices, default=Language.ZH)
    tags = models.ManyToManyField("core.Tag", verbose_name=_("tags"), blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("last edited by"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    suggested_count = models.PositiveIntegerField(_("suggested"), default=0)
    # Lower-cased title, body and tags: searched through core.search (FTS5 trigram / pg_trgm).
    search_text = models.TextField(default="", editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(fields=["status", "visibility", "updated_at", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["category", "updated_at", "id"]),
        ]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """The title and body an article had before a change to it while published, with who wrote them when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, default="")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("edited by"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    edited_at = models.DateTimeField(_("edited"))
    replaced_at = models.DateTimeField(_("replaced"), auto_now_add=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_unique")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class ArticleFeedback(TimestampedModel):
    """One vote per voter per article: a signed-in user, or an anonymous portal visitor by key."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    visitor_key = models.CharField(max_length=64, blank=True, default="")
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True, default="", max_length=2000)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], condition=Q(user__isnull=False),
                                    name="feedback_one_per_user"),
            models.UniqueConstraint(fields=["article", "visitor_key"], condition=Q(user__isnull=True),
                                    name="feedback_one_per_visitor"),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(visitor_key=""), name="feedback_has_voter"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {self.helpful}"


class SearchSource(models.TextChoices):
    AGENT = "agent", _("Agent")
    PORTAL = "portal", _("Portal")
    API = "api", _("API")


class SearchLog(models.Model):
    """One search. `ended_without_ticket` is unknown (null) until the portal says how the visit ended:
    True when the visitor left without opening a ticket (deflected), False when a ticket followed."""

    query = models.CharField(_("query"), max_length=200)
    normalized = models.CharField(max_length=200, db_index=True)
    language = models.CharField(_("language"), max_length=7, blank=True, default="")
    source = models.CharField(_("source"), max_length=6, choices=SearchSource.choices, default=SearchSource.AGENT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    visitor_key = models.CharField(max_length=64, blank=True, default="")
    results_count = models.PositiveIntegerField(_("results"), default=0)
    clicked_article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_without_ticket = models.BooleanField(_("ended without a ticket"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("search")
        verbose_name_plural = _("searches")
        indexes = [models.Index(fields=["source", "created_at"])]

    def __str__(self) -> str:
        return self.query


class BulletinKind(models.TextChoices):
    """What a bulletin is about: the board shows it as a badge and filters by it."""

    GENERAL = "general", pgettext_lazy("bulletin kind", "Announcement")
    PRODUCT = "product", pgettext_lazy("bulletin kind", "Product news")
    KNOWN_ISSUE = "known_issue", pgettext_lazy("bulletin kind", "Known issue")
    COMPETITOR = "competitor", pgettext_lazy("bulletin kind", "Competitor note")


class BulletinQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> BulletinQuerySet:
        """Staff only: bulletins to everyone, to the user's team or a team above it, and their own."""
        if not is_staff(user):
            return self.none()
        if user.is_administrator:
            return self
        team_ids = [int(p) for p in user.team.path.strip("/").split("/") if p] if user.team_id else []
        return self.filter(Q(team__isnull=True) | Q(team_id__in=team_ids) | Q(author_id=user.pk))

    def current(self) -> BulletinQuerySet:
        now = timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def audience_of(bulletin: Bulletin) -> models.QuerySet[User]:
    """The active users `visible_to` shows this bulletin to, read the other way: everyone, or the members of its
    team and the teams below it, administrators and its author."""
    users = User.objects.filter(is_active=True)
    if bulletin.team_id is None:
        return users
    return users.filter(Q(team__path__startswith=bulletin.team.path) | Q(is_superuser=True) | Q(role=Role.ADMIN)
                        | Q(pk=bulletin.author_id))


class Bulletin(VersionedModel, TimestampedModel):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, default="")
    kind = models.CharField(_("kind"), max_length=12, choices=BulletinKind.choices, default=BulletinKind.GENERAL)
    pinned = models.BooleanField(_("pinned"), default=False)
    team = models.ForeignKey("core.Team", verbose_name=_("audience"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+",
                             help_text=_("Empty: everyone. A team: its members and the teams below it."))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        indexes = [models.Index(fields=["pinned", "created_at", "id"])]

    def __str__(self) -> str:
        return self.title

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class BulletinRead(models.Model):
    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bulletin", "user"], name="bulletin_read_once")]

    def __str__(self) -> str:
        return f"{self.bulletin_id} · {self.user_id}"


class BulletinComment(models.Model):
    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:50]
