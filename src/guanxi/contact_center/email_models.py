"""The email channel: mailboxes (IMAP in, SMTP out) and every message that came in or went out.

A mailbox's passwords are stored encrypted (Fernet, key derived from SECRET_KEY); the columns hold only the
token. InboundEmail is unique per (mailbox, message_id), which is what makes ingesting the same message twice
(a restart, two pollers, a re-sync after UIDVALIDITY changed) land on one row and one ticket.
"""

from __future__ import annotations

import base64
import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", pgettext_lazy("security", "None")


def _fernet():
    from cryptography.fernet import Fernet

    key = hashlib.sha256(b"guanxi.contact_center.mailbox:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    from cryptography.fernet import InvalidToken

    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed: the admin must type the password again
        return ""


class MailboxMode(models.TextChoices):
    TICKETS = "tickets", _("Tickets: each new email opens a ticket")
    LOGGING = "logging", _("Logging address: users' BCC'd and forwarded mail goes on the contacts' timelines")


class IdleState(models.TextChoices):
    IDLE = "idle", _("Push (IMAP IDLE)")
    POLLING = "polling", _("Polling: the server offers no IDLE")
    RETRYING = "retrying", _("Connection lost: polling and retrying")


class MailboxQuerySet(models.QuerySet):
    def visible_to(self, user) -> MailboxQuerySet:
        """Mailboxes are settings: administrators see them all, nobody else any."""
        return self if getattr(user, "is_administrator", False) else self.none()


class Mailbox(models.Model):
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=254, unique=True)
    active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP host"), max_length=200)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(_("IMAP security"), max_length=10, choices=Security.choices,
                                     default=Security.SSL)
    imap_user = models.CharField(_("IMAP user"), max_length=200)
    imap_password_enc = models.TextField(default="", blank=True, editable=False)
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    smtp_host = models.CharField(_("SMTP host"), max_length=200, blank=True, default="")
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=465)
    smtp_security = models.CharField(_("SMTP security"), max_length=10, choices=Security.choices,
                                     default=Security.SSL)
    smtp_user = models.CharField(_("SMTP user"), max_length=200, blank=True, default="")
    smtp_password_enc = models.TextField(default="", blank=True, editable=False)
    question_group = models.ForeignKey("service.QuestionGroup", verbose_name=_("default question group"), null=True,
                                       blank=True, on_delete=models.SET_NULL, related_name="+")
    queue = models.ForeignKey("service.Queue", verbose_name=_("default queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    auto_acknowledge = models.BooleanField(_("acknowledge new tickets"), default=True)
    mode = models.CharField(_("use"), max_length=8, choices=MailboxMode.choices, default=MailboxMode.TICKETS)
    # Watched over IMAP IDLE by `guanxi serve` (or `guanxi mail-idle`): new mail is read at once, not in the minute.
    use_idle = models.BooleanField(_("push (IMAP IDLE)"), default=True)
    # Sync state.
    last_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    # Set by the IDLE watcher (`guanxi serve` or `guanxi mail-idle`): how it watches this mailbox now (empty: not
    # watched, the minute poll only).
    idle_state = models.CharField(_("push state"), max_length=8, choices=IdleState.choices, blank=True, default="")
    idle_state_at = models.DateTimeField(_("push state since"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def imap_password(self) -> str:
        return decrypt(self.imap_password_enc)

    @imap_password.setter
    def imap_password(self, value: str) -> None:
        self.imap_password_enc = encrypt(value)

    @property
    def smtp_password(self) -> str:
        return decrypt(self.smtp_password_enc)

    @smtp_password.setter
    def smtp_password(self, value: str) -> None:
        self.smtp_password_enc = encrypt(value)

    @property
    def failing(self) -> bool:
        """The last sync attempt failed (an error newer than the last success)."""
        return bool(self.last_error_at and (self.last_success_at is None or self.last_error_at >= self.last_success_at))

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1]


class InboundStatus(models.TextChoices):
    TICKET = "ticket", _("New ticket")
    THREADED = "threaded", _("Added to a ticket")
    BOUNCE = "bounce", _("Bounce")
    AUTO_REPLY = "auto_reply", _("Auto-reply")
    QUARANTINED = "quarantined", _("Quarantined")
    LOGGED = "logged", _("Logged on contacts")
    NO_CONTACT = "no_contact", _("No matching contact")


class InboundEmail(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="inbound")
    message_id = models.CharField(_("Message-ID"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=InboundStatus.choices)
    uid = models.BigIntegerField(null=True, blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True, default="")
    from_name = models.CharField(_("sender name"), max_length=200, blank=True, default="")
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True, default="")
    in_reply_to = models.TextField(blank=True, default="")
    references = models.TextField(blank=True, default="")
    body = models.TextField(_("message"), blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(pgettext_lazy("email", "received"), auto_now_add=True)
    ticket = models.ForeignKey("service.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="inbound_emails")
    ticket_message = models.ForeignKey("service.TicketMessage", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    reason = models.TextField(_("reason"), blank=True, default="")  # why quarantined, or why not acknowledged
    unmatched = models.TextField(_("no matching contact"), blank=True, default="")  # logging address: ", "-joined
    raw = models.FileField(upload_to="email/raw/%Y/%m/", blank=True, default="")  # kept for quarantined mail

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        constraints = [models.UniqueConstraint(fields=["mailbox", "message_id"], name="inbound_email_once")]
        indexes = [models.Index(fields=["mailbox", "status", "id"]), models.Index(fields=["message_id"]),
                   models.Index(fields=["from_address", "received_at"])]

    def __str__(self) -> str:
        return self.message_id


class EmailAttachment(models.Model):
    inbound = models.ForeignKey(InboundEmail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField(_("size"))
    file = models.FileField(upload_to="email/attachments/%Y/%m/", blank=True, default="")
    refused = models.CharField(_("refused"), max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return self.filename


class OutboundKind(models.TextChoices):
    ACK = "ack", _("Acknowledgement")
    REPLY = "reply", _("Reply")
    AUTO = "auto", _("Automatic answer")


class OutboundEmail(models.Model):
    """A mail we send: created in the transaction of its cause, sent after commit (and retried by the sweep)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="outbound")
    ticket = models.ForeignKey("service.Ticket", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="outbound_emails")  # None: a web form's acknowledgement of a lead
    ticket_message = models.ForeignKey("service.TicketMessage", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    kind = models.CharField(max_length=5, choices=OutboundKind.choices)
    message_id = models.CharField(max_length=255, unique=True)
    to = models.CharField(max_length=254)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500)
    body = models.TextField()
    in_reply_to = models.CharField(max_length=255, blank=True, default="")
    references = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["to", "kind", "created_at"]), models.Index(fields=["sent_at", "attempts"])]

    def __str__(self) -> str:
        return self.message_id
