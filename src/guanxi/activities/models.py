"""Activities on customers (calls, visits, emails, documents sent …), tasks and appointments, and the
per-user calendar feed. Notes (the first issue's model) stay as they are: the timeline shows both."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.access import VisibleQuerySet
from guanxi.core.mixins import OwnedModel, TimestampedModel, VersionedModel


class Note(models.Model):
    account = models.ForeignKey(
        "customers.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"]), models.Index(fields=["contact", "-created_at"])]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False) | models.Q(contact__isnull=False), name="note_has_subject"
            )
        ]

    def __str__(self) -> str:
        return self.body[:50]


def linked_visible(user) -> Q:
    """Rows about an account, contact, opportunity or lead the user may see — decided by core's visible_to."""
    from guanxi.customers.models import Account, Contact
    from guanxi.sales.models import Lead, Opportunity

    return (
        Q(account__in=Account.objects.visible_to(user).values("pk"))
        | Q(contact__in=Contact.objects.visible_to(user).values("pk"))
        | Q(opportunity__in=Opportunity.objects.visible_to(user).values("pk"))
        | Q(lead__in=Lead.objects.visible_to(user).values("pk"))
    )


def _subject(to: str, verbose_name, related_name: str) -> models.ForeignKey:
    """What an activity or a task is about: optional, and gone with the record."""
    return models.ForeignKey(
        to, verbose_name=verbose_name, null=True, blank=True, on_delete=models.CASCADE, related_name=related_name
    )


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user) -> ActivityQuerySet:
        """Activities on records the user can see (and the ones they wrote)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_administrator:
            return self
        return self.filter(Q(author_id=user.pk) | linked_visible(user))


class ActivityKind(models.TextChoices):
    CALL = "call", pgettext_lazy("activity", "Call")
    MEETING = "meeting", _("Visit / meeting")
    EMAIL = "email", pgettext_lazy("activity", "Email")
    NOTE = "note", pgettext_lazy("activity", "Note")
    TASK = "task", pgettext_lazy("activity", "Task done")
    DOCUMENT = "document", _("Document sent")
    HANDOVER = "handover", _("Hand-over")


class Direction(models.TextChoices):
    INBOUND = "in", pgettext_lazy("call", "Inbound")
    OUTBOUND = "out", pgettext_lazy("call", "Outbound")


class Activity(models.Model):
    """Something that happened with a customer: one row per call, visit, email, document sent …"""

    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body = models.TextField(_("outcome"), blank=True, default="")
    account = _subject("customers.Account", _("account"), "activities")
    contact = _subject("customers.Contact", _("contact"), "activities")
    opportunity = _subject("sales.Opportunity", _("opportunity"), "activities")
    # A lead's follow-up before it is converted; conversion adds the account, contact and opportunity it
    # became, and keeps this link so the lead's page still shows its history.
    lead = _subject("sales.Lead", _("lead"), "activities")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("when"))
    # Calls.
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True, default="")
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    # Documents sent: what, to whom (when is occurred_at), and the file itself.
    document_name = models.CharField(_("document"), max_length=200, blank=True, default="")
    document_to = models.CharField(_("sent to"), max_length=200, blank=True, default="")
    document_file = models.FileField(_("file"), upload_to="activities/%Y/%m/", max_length=300, blank=True)
    document_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"]),
            models.Index(fields=["contact", "-occurred_at", "-id"]),
            models.Index(fields=["opportunity", "-occurred_at", "-id"]),
            models.Index(fields=["lead", "-occurred_at", "-id"]),
            models.Index(fields=["author", "-occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False)
                | Q(contact__isnull=False)
                | Q(opportunity__isnull=False)
                | Q(lead__isnull=False),
                name="activity_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class TaskQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> TaskQuerySet:
        """The assignee (the owner), their managers and shares, as for any owned record — plus tasks on
        records the user can see."""
        if user is None or not user.is_authenticated or not user.is_active or user.is_administrator:
            return super().visible_to(user)
        owned = super().visible_to(user).values("pk")
        return self.filter(Q(pk__in=owned) | linked_visible(user))


class TaskKind(models.TextChoices):
    TASK = "task", pgettext_lazy("task kind", "Task")
    APPOINTMENT = "appointment", _("Appointment")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task", "Open")
    DONE = "done", pgettext_lazy("task", "Done")
    CANCELLED = "cancelled", pgettext_lazy("task", "Cancelled")


class Priority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", pgettext_lazy("priority", "High")


class Task(OwnedModel, VersionedModel, TimestampedModel):
    """A to-do with a due time, or an appointment from start to end; the owner is the assignee."""

    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices, default=TaskKind.TASK)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    start_at = models.DateTimeField(_("start"), null=True, blank=True)
    end_at = models.DateTimeField(_("end"), null=True, blank=True)
    all_day = models.BooleanField(_("all day"), default=False)
    # When it sits on the agenda: due_at for a task, start_at for an appointment (kept by save()).
    at = models.DateTimeField(_("on the agenda at"), null=True, blank=True, editable=False)
    priority = models.CharField(_("priority"), max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    account = _subject("customers.Account", _("account"), "tasks")
    contact = _subject("customers.Contact", _("contact"), "tasks")
    opportunity = _subject("sales.Opportunity", _("opportunity"), "tasks")
    lead = _subject("sales.Lead", _("lead"), "tasks")  # as Activity.lead
    location = models.CharField(_("location"), max_length=200, blank=True, default="")
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "at", "id"]),  # the agenda and "my open tasks"
            models.Index(fields=["owner", "at", "id"]),
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["opportunity", "-created_at"]),
            models.Index(fields=["lead", "-created_at"]),
            models.Index(
                fields=["remind_at"], condition=Q(reminded_at__isnull=True, status="open"), name="task_reminder_due"
            ),  # the sweep's query
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__isnull=True) | Q(start_at__isnull=True) | Q(end_at__gte=models.F("start_at")),
                name="task_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.at = self.start_at if self.kind == TaskKind.APPOINTMENT else self.due_at
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "at"}
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN


class CalendarFeed(models.Model):
    """A user's secret iCalendar address; only the token's SHA-256 is kept, so it is shown once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} ({self.prefix}…)"
