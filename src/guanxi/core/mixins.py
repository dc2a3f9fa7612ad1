"""Small abstract models that business records combine: owned, versioned, custom-fielded, timestamped."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .access import VisibleManager


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(models.Model):
    """Has an owner; `team` is the owner's team at assignment time, so visibility is one indexed filter."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    team = models.ForeignKey(
        "core.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VisibleManager()

    class Meta:
        abstract = True

    def set_owner(self, user) -> None:
        self.owner = user
        self.team_id = user.team_id if user else None


class VersionedModel(models.Model):
    """Optimistic locking: an update carries the version it read; a stale one is refused."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class CustomFieldsModel(models.Model):
    """Values of administrator-defined fields, validated against core.CustomField."""

    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True
