"""The NPS relationship survey: a survey (campaign) a service manager sends to the contacts of a filter, one
invitation per chosen contact (an e-mail, or the reason none was sent), and each answer — a score 0–10 and the
main reason for it — taken once per invitation.

The answer repeats its survey, contact and account, so the results, the KPI dashboard and the timeline read one
table; `follow_up` is the call-back task a detractor's answer gave the account's owner.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Classification

from . import nps
from .survey_mail import RetriedMail


class SkipReason(models.TextChoices):
    NO_CONSENT = nps.NO_CONSENT, _("no marketing consent")
    NO_EMAIL = nps.NO_EMAIL, _("no e-mail address")
    UNDELIVERABLE = nps.UNDELIVERABLE, _("e-mail address undeliverable")
    RECENT = nps.RECENT, _("surveyed recently")


class Category(models.TextChoices):
    PROMOTER = nps.PROMOTER, _("Promoter")
    PASSIVE = nps.PASSIVE, _("Passive")
    DETRACTOR = nps.DETRACTOR, _("Detractor")


class NpsSurvey(models.Model):
    """One NPS campaign: its name, who it went to (the filter), in which language the e-mail was written, and the
    background job that sends the e-mails."""

    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language of the e-mail"), max_length=10, choices=settings.LANGUAGES)
    classification = models.CharField(_("only accounts classified"), max_length=1, choices=Classification.choices,
                                      blank=True, default="")
    account_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("only accounts owned by"), null=True,
                                      blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    job = models.ForeignKey("core.JobProgress", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("NPS survey")
        verbose_name_plural = _("NPS surveys")
        indexes = [models.Index(fields=["created_at", "id"])]

    def __str__(self) -> str:
        return self.name


class AboutContact(models.Model):
    """Whom an invitation or an answer is about: the contact, and their company (first account) at the time."""

    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="+")
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class NpsInvitation(AboutContact, RetriedMail):
    """A chosen contact of a survey: the e-mail with its signed link (sent and retried as every survey e-mail), or,
    with `skip_reason`, why none was sent. `email` is the address it went (or goes) to."""

    survey = models.ForeignKey(NpsSurvey, verbose_name=_("survey"), on_delete=models.CASCADE,
                               related_name="invitations")
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    skip_reason = models.CharField(_("not sent because"), max_length=20, choices=SkipReason.choices, blank=True,
                                   default="")

    class Meta:
        verbose_name = _("NPS invitation")
        verbose_name_plural = _("NPS invitations")
        constraints = [models.UniqueConstraint(fields=["survey", "contact"], name="nps_invitation_once")]
        indexes = [
            models.Index(fields=["contact", "created_at"]),  # the quiet period: surveyed in the last N days?
            models.Index(fields=["sent_at", "attempts"], condition=Q(skip_reason=""), name="nps_invitation_due"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} → {self.contact_id}"


class NpsResponse(AboutContact):
    """A contact's answer to an invitation: 0–10 and the main reason, once."""

    invitation = models.OneToOneField(NpsInvitation, verbose_name=_("invitation"), on_delete=models.CASCADE,
                                      related_name="response")
    survey = models.ForeignKey(NpsSurvey, verbose_name=_("survey"), on_delete=models.CASCADE,
                               related_name="responses")
    score = models.PositiveSmallIntegerField(_("score"))
    reason = models.TextField(_("main reason"), blank=True, default="", max_length=2000)
    at = models.DateTimeField(_("answered"), db_index=True)
    follow_up = models.ForeignKey("activities.Task", verbose_name=_("follow-up task"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("NPS answer")
        verbose_name_plural = _("NPS answers")
        indexes = [
            models.Index(fields=["survey", "at", "id"]),  # the results list, newest first
            models.Index(fields=["survey", "score", "id"]),
            models.Index(fields=["contact", "at"]),  # the contact's timeline
            models.Index(fields=["account", "at"]),
        ]
        constraints = [models.CheckConstraint(condition=Q(score__gte=nps.MIN_SCORE, score__lte=nps.MAX_SCORE),
                                              name="nps_score_0_to_10")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.score}"

    @property
    def category(self) -> str:
        return nps.category(self.score)

    def get_category_display(self) -> str:
        return str(Category(self.category).label)
