"""Knowledge-base answers to incoming email: the articles suggested for a ticket's question, and, per question
group, whether an administrator lets Guanxi answer by itself when an article fits well enough."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class KnowledgeSuggestion(models.Model):
    """An article that may answer the question of an email ticket, with its search score (3 points per keyword
    in the title, 1 per keyword only in the body)."""

    ticket = models.ForeignKey("service.Ticket", on_delete=models.CASCADE, related_name="kb_suggestions")
    inbound = models.ForeignKey("contact_center.InboundEmail", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    article = models.ForeignKey("knowledge.Article", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveIntegerField(_("score"))
    sent = models.BooleanField(_("sent automatically"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suggested article")
        verbose_name_plural = _("suggested articles")
        ordering = ["-score", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="kb_suggestion_once")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.article_id} ({self.score})"


class EmailAutoResponse(models.Model):
    """An administrator's permission to answer new email tickets of a question group from the knowledge base."""

    question_group = models.OneToOneField("service.QuestionGroup", verbose_name=_("question group"),
                                          on_delete=models.CASCADE, related_name="email_auto_response")
    enabled = models.BooleanField(_("answer automatically"), default=False)
    min_score = models.PositiveIntegerField(_("minimum score"), default=6,
                                            validators=[MinValueValidator(1), MaxValueValidator(100)])
    max_articles = models.PositiveSmallIntegerField(_("articles at most"), default=3,
                                                    validators=[MinValueValidator(1), MaxValueValidator(5)])
    template = models.TextField(_("message"), blank=True, default="", max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("automatic email answer")
        verbose_name_plural = _("automatic email answers")

    def __str__(self) -> str:
        return f"{self.question_group_id}: {self.enabled}"
