"""The phone channel (CTI): the PBX connections an administrator sets up, the agents' extensions, one Call per
PBX call and the log of the events that made it.

A Call is unique per (source, call_id); each event is logged once per (call, key) — the PBX's event id, or its
kind, extension and time — so an event delivered twice changes nothing. The call's `owner` is the agent who
answered (or was rung), so core's visibility rule covers them and their managers; the service desk sees every
call, and anyone sees the calls of contacts they may see.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.activities.models import Direction
from guanxi.core.access import VisibleQuerySet
from guanxi.core.mixins import OwnedModel

from .chat_models import SERVICE_ROLES
from .email_models import decrypt, encrypt


def new_key() -> str:
    return secrets.token_urlsafe(18)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class PbxKind(models.TextChoices):
    AMI = "ami", _("Asterisk (AMI)")
    WEBHOOK = "webhook", _("Cloud PBX (webhook)")


class PbxConnectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> PbxConnectionQuerySet:
        """PBX connections are settings: administrators see them all, nobody else any."""
        return self if getattr(user, "is_administrator", False) else self.none()


class PbxConnection(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=PbxKind.choices, default=PbxKind.AMI)
    active = models.BooleanField(_("active"), default=True)
    key = models.CharField(_("webhook key"), max_length=40, unique=True, default=new_key, editable=False)
    secret_enc = models.TextField(default="", blank=True, editable=False)  # the webhook's HMAC secret
    ami_host = models.CharField(_("AMI host"), max_length=200, blank=True, default="")
    ami_port = models.PositiveIntegerField(_("AMI port"), default=5038)
    ami_username = models.CharField(_("AMI user"), max_length=100, blank=True, default="")
    ami_password_enc = models.TextField(default="", blank=True, editable=False)
    originate_context = models.CharField(_("dialplan context for click-to-call"), max_length=80,
                                         default="from-internal")
    channel_technology = models.CharField(_("agents' channel technology"), max_length=20, default="PJSIP")
    recording_base = models.CharField(_("recordings base URL"), max_length=300, blank=True, default="",
                                      help_text=_("Recording file names from the PBX are appended to this URL."))
    records_as = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logs calls without an agent as"),
                                   null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_connected_at = models.DateTimeField(_("last connected"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # Changed by every save (an administrator's edit), not by the health notes (`update()`): `guanxi cti` reconnects
    # a connection whose updated_at moved.
    updated_at = models.DateTimeField(auto_now=True)

    objects = PbxConnectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("PBX connection")
        verbose_name_plural = _("PBX connections")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        return decrypt(self.secret_enc)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_enc = encrypt(value)

    @property
    def ami_password(self) -> str:
        return decrypt(self.ami_password_enc)

    @ami_password.setter
    def ami_password(self, value: str) -> None:
        self.ami_password_enc = encrypt(value)


class AgentPhone(models.Model):
    """The extension an agent's desk phone (or softphone) answers on: how a PBX event finds the user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE,
                                related_name="agent_phone")
    extension = models.CharField(_("extension"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("agent phone")
        verbose_name_plural = _("agent phones")
        ordering = ["extension"]

    def __str__(self) -> str:
        return self.extension


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    QUEUED = "queued", _("Queued")
    ANSWERED = "answered", _("In progress")
    ENDED = "ended", _("Ended")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    ABANDONED = "abandoned", _("Abandoned")
    VOICEMAIL = "voicemail", _("Voicemail")


class CallQuerySet(VisibleQuerySet):
    def visibility_rule(self, user) -> Q:
        if user.role in SERVICE_ROLES:
            return Q()
        from guanxi.customers.models import Contact

        return super().visibility_rule(user) | Q(contact__in=Contact.objects.visible_to(user).values("pk"))


class Call(OwnedModel):
    source = models.ForeignKey(PbxConnection, verbose_name=_("PBX"), on_delete=models.PROTECT, related_name="calls")
    call_id = models.CharField(_("PBX call id"), max_length=100)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND)
    status = models.CharField(_("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.RINGING)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    caller = models.CharField(_("caller"), max_length=40, blank=True, default="")
    callee = models.CharField(_("callee"), max_length=40, blank=True, default="")
    number = models.CharField(_("customer's number"), max_length=40, blank=True, default="")  # E.164 when valid
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="calls")
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="calls")
    extension = models.CharField(_("extension"), max_length=40, blank=True, default="")
    queue = models.CharField(_("queue"), max_length=100, blank=True, default="")
    started_at = models.DateTimeField(_("started"))
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    answered_at = models.DateTimeField(pgettext_lazy("call", "answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait (seconds)"), null=True, blank=True)  # in the queue
    duration_seconds = models.PositiveIntegerField(_("talk time (seconds)"), null=True, blank=True)
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    hint = models.CharField(_("PBX outcome"), max_length=60, blank=True, default="")
    recording_url = models.CharField(_("recording"), max_length=500, blank=True, default="")
    activity = models.OneToOneField("activities.Activity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="call")
    popped_extension = models.CharField(max_length=40, blank=True, default="", editable=False)

    objects = models.Manager.from_queryset(CallQuerySet)()

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.UniqueConstraint(fields=["source", "call_id"], name="call_once_per_pbx")]
        indexes = [models.Index(fields=["-started_at", "-id"]), models.Index(fields=["owner", "-started_at"]),
                   models.Index(fields=["contact", "-started_at"]), models.Index(fields=["queue", "started_at"])]

    def __str__(self) -> str:
        return f"{_('Call')} {self.number or self.caller or self.call_id}"


class CallEventLog(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=200)
    kind = models.CharField(_("event"), max_length=12)
    at = models.DateTimeField(_("at"))
    extension = models.CharField(max_length=40, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        constraints = [models.UniqueConstraint(fields=["call", "key"], name="call_event_once")]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%H:%M:%S}"
