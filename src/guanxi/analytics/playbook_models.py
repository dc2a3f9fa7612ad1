"""Retention playbooks: what to do for the customers in each cell of the value × risk grid."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .score_models import Band


class PlaybookActionKind(models.TextChoices):
    TASK = "task", _("A task for the account's owner")
    TAG = "tag", _("Add the account to a tag (segment)")


class Playbook(models.Model):
    """One per grid cell, edited by an administrator; "Run" applies it to the cell's visible accounts."""

    value_band = models.CharField(pgettext_lazy("customer value", "value"), max_length=4, choices=Band.choices)
    risk_band = models.CharField(_("risk"), max_length=4, choices=Band.choices)
    action = models.CharField(_("action"), max_length=4, choices=PlaybookActionKind.choices,
                              default=PlaybookActionKind.TASK)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    due_hours = models.PositiveIntegerField(_("due within (hours)"), default=48,
                                            validators=[MinValueValidator(1), MaxValueValidator(24 * 365)])
    tag = models.ForeignKey("core.Tag", verbose_name=_("tag"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        constraints = [models.UniqueConstraint(fields=["value_band", "risk_band"], name="playbook_one_per_cell")]

    def __str__(self) -> str:
        return self.title


class PlaybookAction(models.Model):
    """What running a playbook did for one account: the task it created (or the tag it added). An account
    with an open task from the playbook (or already tagged by it) is skipped, so running twice adds nothing."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="actions")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField("activities.Task", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        indexes = [models.Index(fields=["playbook", "account"])]

    def __str__(self) -> str:
        return f"{self.playbook_id}: {self.account_id}"
