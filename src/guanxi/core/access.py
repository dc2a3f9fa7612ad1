"""The one place that decides who may see a record.

Lists, detail pages, search, exports, the API and every chart start from
`Model.objects.visible_to(user)`; a record outside it is a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from .models import User


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> VisibleQuerySet:
        """Owner, shares (to the user or their team), the team subtree a manager heads; all for admins."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_administrator:
            return self
        from .models import Share

        ct = ContentType.objects.get_for_model(self.model)
        shares = Share.objects.filter(content_type=ct).filter(
            Q(user_id=user.pk) | (Q(team_id=user.team_id) if user.team_id else Q(pk__in=[]))
        )
        rule = Q(owner_id=user.pk)
        if shares.exists():  # most users have none; without the OR the planner can use (owner, sort) indexes
            rule |= Q(pk__in=shares.values("object_id"))
        team_ids = user.visible_team_ids()
        if team_ids:
            rule |= Q(team_id__in=team_ids)
        return self.filter(rule)

    def editable_by(self, user: User | None) -> VisibleQuerySet:
        if user is None or not user.is_authenticated or not user.can_edit:
            return self.none()
        return self.visible_to(user)


VisibleManager = models.Manager.from_queryset(VisibleQuerySet)
