"""Canned replies: answers an agent inserts into a reply, with placeholders (see placeholders.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CannedReply(models.Model):
    """Shared (no owner: written by a service manager or an administrator) or an agent's own."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    question_group = models.ForeignKey("service.QuestionGroup", verbose_name=_("question group"), null=True,
                                       blank=True, on_delete=models.SET_NULL, related_name="canned_replies")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("personal to"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="canned_replies")
    uses = models.PositiveIntegerField(_("times used"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["owner", "title"])]

    def __str__(self) -> str:
        return self.title
