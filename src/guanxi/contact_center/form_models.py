"""Web forms: lead and ticket forms an administrator builds in the UI and a company embeds in its website, and
every submission accepted from one.

A form's fields are a JSON list (their order is the order shown): each has a key (the input's name), a label in
Chinese and/or English, a type, whether it is required and the record field it fills (`target`, e.g.
"lead.email", "contact.custom.budget", "ticket.subject"; empty: the answer goes into the description).

A FormSubmission is written in the transaction that creates its records, so an accepted submission always has
them (and they it). Who may see a submission follows the record it created: its lead or its ticket.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.access import VisibleQuerySet

from .chat_models import new_key


class FormKind(models.TextChoices):
    LEAD = "lead", _("Lead form")
    TICKET = "ticket", _("Ticket form")


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TEXTAREA = "textarea", _("Long text")
    CHOICE = "choice", _("Choice")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    YES_NO = "yes_no", _("Yes/no")


class WebForm(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=FormKind.choices)
    public_key = models.CharField(_("public key"), max_length=64, unique=True, default=new_key, editable=False)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True, default="")
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True, default="")
    fields = models.JSONField(_("fields"), default=list, blank=True)
    last_key = models.PositiveIntegerField(default=0, editable=False)  # fields are keyed f1, f2 …, never reused
    consent_enabled = models.BooleanField(_("ask for marketing consent"), default=False)
    consent_text_zh = models.CharField(_("consent text (Chinese)"), max_length=500, blank=True, default="")
    consent_text_en = models.CharField(_("consent text (English)"), max_length=500, blank=True, default="")
    success_message = models.CharField(_("success message"), max_length=500, blank=True, default="")
    redirect_url = models.CharField(_("redirect to"), max_length=2000, blank=True, default="")
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)
    queue = models.ForeignKey("service.Queue", verbose_name=_("queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    question_group = models.ForeignKey("service.QuestionGroup", verbose_name=_("question group"), null=True,
                                       blank=True, on_delete=models.SET_NULL, related_name="+")
    lead_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assign leads to"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text=_("Empty: the lead assignment rules choose."))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("creates records as"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    ack_mailbox = models.ForeignKey("contact_center.Mailbox", verbose_name=_("acknowledge from mailbox"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    ack_subject = models.CharField(_("acknowledgement subject"), max_length=200, blank=True, default="")
    ack_body = models.TextField(_("acknowledgement text"), blank=True, default="")
    active = models.BooleanField(_("active"), default=True)
    spam_count = models.PositiveIntegerField(_("refused as spam"), default=0, editable=False)
    throttled_count = models.PositiveIntegerField(_("refused as too many"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        return pick(self.title_zh, self.title_en) or self.name

    @property
    def consent_text(self) -> str:
        return pick(self.consent_text_zh, self.consent_text_en)


def pick(zh: str, en: str) -> str:
    """The text in the active language, else the other one."""
    chinese = (get_language() or "").startswith("zh")
    return (zh or en) if chinese else (en or zh)


class SubmissionStatus(models.TextChoices):
    CREATED = "created", _("Record created")


class SubmissionQuerySet(VisibleQuerySet):
    def visibility_rule(self, user) -> Q:
        """A submission is seen by whoever may see the lead or the ticket it created."""
        from guanxi.sales.lead_models import Lead
        from guanxi.service.ticket_models import Ticket

        return (Q(lead_id__in=Lead.objects.visible_to(user).values("pk"))
                | Q(ticket_id__in=Ticket.objects.visible_to(user).values("pk")))


class FormSubmission(models.Model):
    form = models.ForeignKey(WebForm, verbose_name=_("web form"), on_delete=models.CASCADE,
                             related_name="submissions")
    status = models.CharField(_("status"), max_length=10, choices=SubmissionStatus.choices,
                              default=SubmissionStatus.CREATED)
    data = models.JSONField(_("answers"), default=dict)  # field key → value as submitted
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, default="")
    origin = models.CharField(_("origin"), max_length=300, blank=True, default="")
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    consent = models.BooleanField(_("marketing consent"), default=False)
    consent_text = models.CharField(_("consent text"), max_length=500, blank=True, default="")
    lead = models.ForeignKey("sales.Lead", verbose_name=_("lead"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="form_submissions")
    ticket = models.ForeignKey("service.Ticket", verbose_name=_("ticket"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="form_submissions")
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="form_submissions")
    ack_email = models.ForeignKey("contact_center.OutboundEmail", verbose_name=_("acknowledgement"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    objects = models.Manager.from_queryset(SubmissionQuerySet)()

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [models.Index(fields=["form", "-created_at", "-id"]), models.Index(fields=["contact", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.form} #{self.pk}"
