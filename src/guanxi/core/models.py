"""People, teams, roles, tokens, audit, custom fields, tags, shares, saved views and job progress."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    SERVICE_AGENT = "service_agent", _("Service agent")
    MARKETING = "marketing", _("Marketing")
    READ_ONLY = "read_only", _("Read-only")


MANAGER_ROLES = {Role.SALES_MANAGER, Role.SERVICE_MANAGER}


class Team(models.Model):
    """A team in a hierarchy; `path` ("/1/4/9/") makes "this team and all below it" one prefix match."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    class Meta:
        ordering = ["path"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if path != self.path:
            old = self.path
            Team.objects.filter(pk=self.pk).update(path=path)
            self.path = path
            if old:  # moved: re-root the subtree
                for child in Team.objects.filter(path__startswith=old).exclude(pk=self.pk):
                    Team.objects.filter(pk=child.pk).update(path=path + child.path[len(old) :])

    def subtree_ids(self) -> list[int]:
        return list(Team.objects.filter(path__startswith=self.path).values_list("pk", flat=True))


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def can_edit(self) -> bool:
        return self.is_active and self.role != Role.READ_ONLY

    def visible_team_ids(self) -> list[int]:
        """Teams whose records this user sees through the team: a manager's whole subtree,
        a read-only user's own team, nobody else's."""
        if self.team_id is None:
            return []
        if self.role in MANAGER_ROLES or self.role == Role.READ_ONLY:
            return self.team.subtree_ids()
        return []


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, default="api")
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} · {self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """Failed logins, counted per username and per address to throttle guessing."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} @ {self.address}"


class AuditAction(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("updated")
    DELETE = "delete", _("deleted")
    MERGE = "merge", _("merged")
    ASSIGN = "assign", _("reassigned")
    TAG = "tag", _("tagged")
    REQUEST = "request", _("change requested")
    APPROVE = "approve", _("change accepted")
    REJECT = "reject", _("change rejected")
    WITHDRAW = "withdraw", _("change withdrawn")


class AuditEntry(models.Model):
    """One change to one business record: who, when, and for each field old → new."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, default="")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    changes = models.JSONField(default=dict, blank=True)  # {field: [old, new]}
    version = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"

    @property
    def change_request_id(self) -> int | None:
        """The change request this entry made or decided, if any (stored as `_request` in `changes`)."""
        pair = (self.changes or {}).get("_request")
        return pair[1] if isinstance(pair, list) and len(pair) == 2 else None


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes/no")


class CustomField(models.Model):
    """A field an administrator adds in the UI; values live in the record's `custom` JSON."""

    model = models.CharField(_("record type"), max_length=30)  # "account", "contact", …
    key = models.SlugField(_("key"), max_length=40)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)  # ["value", …]
    required = models.BooleanField(_("required"), default=False)
    show_in_list = models.BooleanField(_("show in lists"), default=False)
    currency = models.CharField(_("currency"), max_length=3, default="CNY", blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="customfield_model_key")]
        ordering = ["model", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_zh if (get_language() or "").startswith("zh") else self.label_en


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#206bc4")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Share(models.Model):
    """A record shared with a user or a whole team, beyond its owner."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="shares")

    class Meta:
        indexes = [
            models.Index(fields=["content_type", "user", "object_id"]),
            models.Index(fields=["content_type", "team", "object_id"]),
        ]
        verbose_name = _("share")
        verbose_name_plural = _("shares")

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} → {self.user or self.team}"


class SavedView(models.Model):
    """A list's filters and sort, saved under a name."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    model = models.CharField(max_length=30)
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000, blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "model", "name"], name="savedview_unique")]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobProgress(models.Model):
    """What a user sees of a background job: a progress bar and the outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=50)
    label = models.CharField(max_length=200, default="")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return self.label or self.kind

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class SweepRun(models.Model):
    """One row per minute swept, so several workers never sweep the same minute twice."""

    minute = models.DateTimeField(unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    handled = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.minute.isoformat()


class Notification(models.Model):
    """An in-app message to one user (reminders, pool warnings, escalations); `key` makes sending idempotent."""

    user = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(_("message"), max_length=500)
    link = models.CharField(_("link"), max_length=500, blank=True, default="")
    key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["user", "-created_at", "-id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="notification_once_per_key"
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.text[:50]
