"""The duplicates review queue and the merges that can be undone.

Records are referred to by kind + id, not by foreign key: a pair and a merge outlive the record merged away
(it is deleted by the merge and comes back, with its id, on undo).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    CONTACT = "contact", _("Contact")
    ACCOUNT = "account", _("Account")


class PairStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not duplicates")


class PairSource(models.TextChoices):
    SCAN = "scan", _("Scan")
    ENTRY = "entry", _("On entry")


class DuplicatePair(models.Model):
    """Two records that may be the same customer; stored once, with record_1 < record_2."""

    kind = models.CharField(_("record type"), max_length=10, choices=RecordKind.choices)
    record_1 = models.BigIntegerField()
    record_2 = models.BigIntegerField()
    score = models.FloatField(_("score"), default=0.0)  # match probability, 0–1
    levels = models.JSONField(default=dict, blank=True)  # {field: level name} from the comparison
    status = models.CharField(_("status"), max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN)
    source = models.CharField(_("found by"), max_length=10, choices=PairSource.choices, default=PairSource.SCAN)
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate pair")
        verbose_name_plural = _("duplicate pairs")
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_1", "record_2"], name="duplicatepair_once"),
            models.CheckConstraint(condition=Q(record_1__lt=F("record_2")), name="duplicatepair_ordered"),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "-score", "id"]),
            models.Index(fields=["kind", "record_2"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.record_1} ~ #{self.record_2}"

    @staticmethod
    def ordered(a: int, b: int) -> tuple[int, int]:
        return (a, b) if a < b else (b, a)


class Merge(models.Model):
    """One merge: what the survivor was before, the merged-away record as it was (with the rows that
    pointed at it), and what was moved, so that it can be undone exactly."""

    kind = models.CharField(_("record type"), max_length=10, choices=RecordKind.choices)
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    pair = models.ForeignKey(DuplicatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges")
    merged_repr = models.CharField(max_length=200, default="")
    survivor_before = models.JSONField(default=dict)  # the survivor's columns before the merge
    survivor_version = models.PositiveIntegerField(default=0)  # its version right after the merge
    merged_snapshot = models.JSONField(default=dict)  # the merged-away record's columns
    relinked = models.JSONField(default=list)  # [{"model", "field", "ids"}]: rows moved to the survivor
    removed = models.JSONField(default=list)  # [{"model", "row"}]: rows deleted as duplicates of the survivor's
    modified = models.JSONField(default=list)  # [{"model", "id", "before"}]: the survivor's own rows changed
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "survivor_id"]), models.Index(fields=["kind", "merged_id"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.merged_id} → #{self.survivor_id}"


from .approval_models import ChangeRequest, FieldRule, RequestStatus  # noqa: E402, F401  (registered with this app)
