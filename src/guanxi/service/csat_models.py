"""What customers add to a ticket from outside the CRM: files they attach, and their satisfaction answer.

`TicketMessage.author` is a staff user; a public reply without an author came from the customer (the portal,
later e-mail). Their files are `TicketAttachment`s; their rating of a resolved ticket is one
`SatisfactionResponse` per ticket.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .survey_mail import RetriedMail


class TicketAttachment(models.Model):
    ticket = models.ForeignKey("service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="attachments")
    message = models.ForeignKey("service.TicketMessage", verbose_name=_("message"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["ticket", "created_at", "id"])]

    def __str__(self) -> str:
        return self.name


class SurveyMail(RetriedMail):
    """The satisfaction survey e-mail of a ticket: one per ticket, written when it is first resolved, sent after
    commit and retried by the sweep until it leaves (claimed once per attempt: see `survey_mail`)."""

    ticket = models.OneToOneField("service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                                  related_name="survey_mail")

    class Meta:
        verbose_name = _("survey e-mail")
        verbose_name_plural = _("survey e-mails")
        indexes = [models.Index(fields=["sent_at", "attempts"])]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.sent_at or self.error or '…'}"


class SatisfactionResponse(models.Model):
    """The customer's answer to the survey sent when the ticket was resolved: 1–5 and a comment, once.
    `agent` and `queue` are the ticket's at answer time, so the averages per agent and queue do not move
    when the ticket is later reassigned."""

    ticket = models.OneToOneField("service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                                  related_name="satisfaction")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True, default="", max_length=2000)
    agent = models.ForeignKey("core.User", verbose_name=_("agent"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    queue = models.ForeignKey("service.Queue", verbose_name=_("queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("answered"), db_index=True)

    class Meta:
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        indexes = [models.Index(fields=["agent", "at"]), models.Index(fields=["queue", "at"])]
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5),
                                              name="csat_score_1_to_5")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"
