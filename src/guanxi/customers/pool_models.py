"""The public pool (公海): accounts without an owner that reps may claim, the rules that return neglected
accounts to it, and how many accounts a rep may hold from it.

An account is in the pool when its owner is NULL. The pool columns live on Account (mixed in from
PoolMembership) so the pool list, the sweep and the detail page read one row.

Claim limit (decided): a rep may hold at most N accounts *claimed from the pool* at a time (accounts
assigned by a manager or created by the rep do not count; releasing a claimed account frees its place).
This is 销售易's "领取上限", and it does not lock out reps whose own book is already large.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_CLAIM_LIMIT = 20  # when an administrator has set none


class PoolMembership(models.Model):
    """The pool columns of an account (abstract: mixed into Account)."""

    # Set on create, claim and assignment, and by pool_services.record_follow_up when an activity is logged.
    last_follow_up_at = models.DateTimeField(_("last follow-up"), null=True, blank=True, db_index=True)
    # When the account returns to the pool unless followed up; NULL in the pool or when no rule applies.
    pool_due_at = models.DateTimeField(_("returns to the pool"), null=True, blank=True, db_index=True)
    pool_warned_at = models.DateTimeField(_("owner warned"), null=True, blank=True, editable=False)
    pool_entered_at = models.DateTimeField(_("in the pool since"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed from the pool"), null=True, blank=True, editable=False)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True, editable=False)
    release_reason = models.CharField(
        _("reason for release"), max_length=200, blank=True, default="", db_default="", editable=False
    )

    # core.access: an account without an owner is in the public pool, which every user may see (to claim it).
    unowned_are_public = True

    class Meta:
        abstract = True


class PoolRule(models.Model):
    """How long an account of one classification may go without follow-up before it returns to the pool."""

    classification = models.CharField(_("classification"), max_length=1, blank=True, unique=True)  # "": none
    return_days = models.PositiveIntegerField(
        _("days without follow-up"), default=30, help_text=_("0: never returns automatically.")
    )
    warn_days = models.PositiveIntegerField(_("warn the owner days before"), default=3)
    cooldown_days = models.PositiveIntegerField(
        _("cool-down days"), default=7, help_text=_("A rep may not re-claim an account they released for this long.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["classification"]
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")

    def __str__(self) -> str:
        return self.classification or "—"


class ClaimLimit(models.Model):
    """How many pool accounts a rep may hold: one default row (no user, no role), per-role and per-user overrides."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=20, blank=True, default="")
    max_claimed = models.PositiveIntegerField(_("maximum accounts from the pool"))

    class Meta:
        verbose_name = _("claim limit")
        verbose_name_plural = _("claim limits")
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=True) | Q(role=""), name="claimlimit_user_or_role"),
            models.UniqueConstraint(fields=["role"], condition=Q(user__isnull=True), name="claimlimit_one_per_role"),
            models.UniqueConstraint(fields=["user"], condition=Q(user__isnull=False), name="claimlimit_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.role or '*'}: {self.max_claimed}"
