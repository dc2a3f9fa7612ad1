"""The one place that decides who may see a record.

Lists, detail pages, search, exports, the API and every chart start from
`Model.objects.visible_to(user)`; a record outside it is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import User


def require_editor(user: User | None, message: str | None = None) -> None:
    """Read-only roles (and anonymous callers) may look but not change: a 403 with `message`."""
    if not getattr(user, "can_edit", False):
        raise PermissionDenied(message or _("Your role may not change records."))


def require_admin(user: User | None, message: str | None = None) -> None:
    """Settings that only an administrator may change: a 403 with `message`."""
    if not getattr(user, "is_administrator", False):
        raise PermissionDenied(message or _("Only an administrator may do this."))


@dataclass(frozen=True)
class VisibleParts:
    """What `VisibleQuerySet.visible_parts` returns: everything (administrators), or the rows owned by
    `owner_id`, those whose team is in `team_ids`, and `shared`."""

    everything: bool
    owner_id: int | None
    team_ids: list[int]
    shared: models.QuerySet


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> VisibleQuerySet:
        """Owner, shares (to the user or their team), the team subtree a manager heads; all for admins.
        Models with `unowned_are_public` (accounts) add their unowned rows: the public pool."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_administrator:
            return self
        return self.filter(self.visibility_rule(user))

    def _shares(self, user: User) -> models.QuerySet:
        from .models import Share

        ct = ContentType.objects.get_for_model(self.model)
        return Share.objects.filter(content_type=ct).filter(
            Q(user_id=user.pk) | (Q(team_id=user.team_id) if user.team_id else Q(pk__in=[]))
        )

    def visibility_rule(self, user: User) -> Q:
        """The condition for a signed-in, active, non-administrator user; a subclass may widen it with `|`."""
        shares = self._shares(user)
        rule = Q(owner_id=user.pk)
        if getattr(self.model, "unowned_are_public", False):  # the public pool (公海): everyone may see to claim
            rule |= Q(owner__isnull=True)
        if shares.exists():  # most users have none; without the OR the planner can use (owner, sort) indexes
            rule |= Q(pk__in=shares.values("object_id"))
        team_ids = user.visible_team_ids()
        if team_ids:
            rule |= Q(team_id__in=team_ids)
        return rule

    def visible_parts(self, user: User | None, team_ids: list[int] | None = None) -> VisibleParts:
        """`visible_to(user)` as the union of three parts, for summaries kept per owner and team (sales'
        monthly figures): the user's own rows, the rows of the teams they see, and the rows shared with them
        (a queryset: few rows, read from the table itself). Only for models this class alone decides: a
        subclass that widens `visibility_rule`, or a model with a public pool, is refused. `team_ids`: the user's
        `visible_team_ids()` when the caller has read them already."""
        if type(self).visibility_rule is not VisibleQuerySet.visibility_rule or getattr(
            self.model, "unowned_are_public", False
        ):
            raise TypeError(f"{self.model.__name__}'s visibility is not owner, teams and shares alone")
        if user is None or not user.is_authenticated or not user.is_active:
            return VisibleParts(everything=False, owner_id=None, team_ids=[], shared=self.none())
        if user.is_administrator:
            return VisibleParts(everything=True, owner_id=user.pk, team_ids=[], shared=self.none())
        shares = self._shares(user)
        shared = self.filter(pk__in=shares.values("object_id")) if shares.exists() else self.none()
        if team_ids is None:
            team_ids = user.visible_team_ids()
        return VisibleParts(everything=False, owner_id=user.pk, team_ids=team_ids, shared=shared)

    def editable_by(self, user: User | None) -> VisibleQuerySet:
        if user is None or not user.is_authenticated or not user.can_edit:
            return self.none()
        if getattr(self.model, "unowned_are_public", False) and not user.is_administrator:
            return self.visible_to(user).filter(owner__isnull=False)  # a pool record is claimed before it is edited
        return self.visible_to(user)


VisibleManager = models.Manager.from_queryset(VisibleQuerySet)
