"""Web chat and visitor tracking: the websites that carry the widget, their visitors and the pages they
browse, and the chat conversations between visitors and agents.

A conversation's `owner` is the agent it is assigned to, so core's visibility rule covers them and their
managers; service agents and managers also see the open, unassigned chats of their queues (or of no queue).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.access import VisibleQuerySet
from guanxi.core.mixins import OwnedModel, TimestampedModel
from guanxi.core.models import Role

SERVICE_ROLES = (Role.SERVICE_AGENT, Role.SERVICE_MANAGER)
MAX_URL = 2000
MAX_TITLE = 300
MAX_MESSAGE = 4000


def new_key() -> str:
    return secrets.token_urlsafe(24)


class ChatSite(models.Model):
    """A website that carries the chat widget: where it may be embedded (origins) and the public key in its snippet."""

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(_("public key"), max_length=64, unique=True, default=new_key, editable=False)
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True,
                                       help_text=_("e.g. https://www.example.cn — one per line."))
    queue = models.ForeignKey("service.Queue", verbose_name=_("queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    service_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("creates tickets as"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+",
                                     help_text=_("Offline messages become tickets requested by this user."))
    active = models.BooleanField(_("active"), default=True)
    # The widget on our own customer portal: portal pages carry it, and a signed-in customer identifies the visitor.
    on_portal = models.BooleanField(_("on the customer portal"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat website")
        verbose_name_plural = _("chat websites")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def allows(self, origin: str | None) -> bool:
        """A browser's Origin may embed the widget; no Origin (not a browser) is judged by the key alone. The site
        on the portal also allows our own pages."""
        if not origin or origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins or []}:
            return True
        return self.on_portal and is_own_origin(origin)


def is_own_origin(origin: str | None) -> bool:
    """A page of Guanxi itself (a host in ALLOWED_HOSTS, as channels' origin validator judges the agent socket)."""
    from urllib.parse import urlparse

    from django.http.request import validate_host

    try:
        host = urlparse(origin or "").hostname
    except ValueError:
        return False
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


class VisitorQuerySet(VisibleQuerySet):
    def visibility_rule(self, user) -> Q:
        """Service agents and managers see every visitor; others those linked to a contact they may see."""
        if user.role in SERVICE_ROLES:
            return Q()
        from guanxi.customers.models import Contact

        return Q(contact__in=Contact.objects.visible_to(user).values("pk"))


class Visitor(models.Model):
    site = models.ForeignKey(ChatSite, verbose_name=_("website"), on_delete=models.CASCADE, related_name="visitors")
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="visitors")
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), db_index=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, default="")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    current_url = models.CharField(_("current page"), max_length=MAX_URL, blank=True, default="")
    page_count = models.PositiveIntegerField(_("pages browsed"), default=0)

    objects = models.Manager.from_queryset(VisitorQuerySet)()

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        indexes = [models.Index(fields=["site", "-last_seen"])]

    def __str__(self) -> str:
        return f"{_('Visitor')} #{self.pk}"


class PageView(models.Model):
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="page_views")
    url = models.CharField(_("URL"), max_length=MAX_URL)
    title = models.CharField(_("title"), max_length=MAX_TITLE, blank=True, default="")
    referrer = models.CharField(_("referrer"), max_length=MAX_URL, blank=True, default="")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        indexes = [models.Index(fields=["visitor", "-at"])]

    def __str__(self) -> str:
        return self.url


class ChatStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ConversationQuerySet(VisibleQuerySet):
    def visibility_rule(self, user) -> Q:
        rule = super().visibility_rule(user)
        if user.role in SERVICE_ROLES:
            from guanxi.service.models import Queue

            queues = Queue.objects.filter(Q(agents__user_id=user.pk) | Q(supervisor_id=user.pk))
            rule |= Q(owner__isnull=True) & (Q(queue__isnull=True) | Q(queue_id__in=queues.values("pk")))
        return rule


class ChatConversation(OwnedModel, TimestampedModel):
    visitor = models.ForeignKey(Visitor, verbose_name=_("visitor"), on_delete=models.CASCADE,
                                related_name="conversations")
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="chat_conversations")
    status = models.CharField(_("status"), max_length=10, choices=ChatStatus.choices, default=ChatStatus.OPEN)
    queue = models.ForeignKey("service.Queue", verbose_name=_("queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    last_message_at = models.DateTimeField(_("last message"), db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = models.Manager.from_queryset(ConversationQuerySet)()

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes = [models.Index(fields=["status", "-last_message_at"]), models.Index(fields=["contact", "-created_at"]),
                   models.Index(fields=["owner", "-last_message_at"])]

    def __str__(self) -> str:
        return f"{_('Chat')} #{self.pk}"


class Sender(models.TextChoices):
    VISITOR = "visitor", _("Visitor")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class ChatDocument(models.Model):
    """A file an agent pushed to the visitor during a chat. The visitor downloads it through a signed link that
    expires (GUANXI_CC_CHAT_DOCUMENT_HOURS) and serves only with that visitor's key; staff who may see the chat
    download it from the chat at any time."""

    conversation = models.ForeignKey(ChatConversation, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to="chat/%Y/%m/", max_length=300)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(max_length=100, blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat document")
        verbose_name_plural = _("chat documents")

    def __str__(self) -> str:
        return self.name


class ChatMessage(models.Model):
    conversation = models.ForeignKey(ChatConversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    body = models.TextField(_("message"))
    # A pushed document: the message (sender "system", the file's name as body) offers it to the visitor.
    document = models.ForeignKey(ChatDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        indexes = [models.Index(fields=["conversation", "at"])]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.body[:50]
