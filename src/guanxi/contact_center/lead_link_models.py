"""Which inbox conversations are about which lead: one row per (lead, conversation), written when an agent makes a
lead from a conversation or links one to an existing lead. A conversation is named by its inbox source ("ticket" for
an email or web-form ticket, "chat", "call") and id, so the lead's page can open it in the inbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadConversation(models.Model):
    lead = models.ForeignKey("sales.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="conversations")
    source = models.CharField(_("channel"), max_length=10)  # an inbox source key
    object_id = models.PositiveBigIntegerField(_("conversation"))
    label = models.CharField(_("conversation"), max_length=200)  # what the lead's page shows
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("linked by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("linked"), auto_now_add=True)

    class Meta:
        verbose_name = _("lead conversation")
        verbose_name_plural = _("lead conversations")
        constraints = [models.UniqueConstraint(fields=["lead", "source", "object_id"], name="lead_conversation_once")]
        indexes = [models.Index(fields=["source", "object_id"])]

    def __str__(self) -> str:
        return self.label
