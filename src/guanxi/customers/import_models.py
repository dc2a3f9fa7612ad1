"""Imports of accounts, contacts and leads: the upload and its settings, saved mappings, and one row per
committed chunk that is at once the checkpoint (resume after it), the undo log (ids created, values
before an update) and the store of rejected and flagged rows. Compact: 1M rows are 500 chunk rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Stopped")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")


class ImportTarget(models.TextChoices):
    CONTACT = "contact", _("Contacts")
    ACCOUNT = "account", _("Accounts")
    LEAD = "lead", _("Leads")  # cleaned, decided, written and undone by guanxi.sales.lead_import


class Import(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    target = models.CharField(_("import"), max_length=10, choices=ImportTarget.choices)
    file_name = models.CharField(_("file"), max_length=255)  # as uploaded, for display
    stored_name = models.CharField(max_length=100)  # under GUANXI_HOME/imports/
    size = models.BigIntegerField(default=0)
    format = models.CharField(max_length=10, default="")
    encoding = models.CharField(max_length=20, default="")
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # header -> field | null
    match_key = models.CharField(_("match existing records by"), max_length=60, blank=True, default="")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    estimated_rows = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    checkpoint = models.PositiveIntegerField(default=0)  # chunks committed; a resumed job starts after them
    job = models.ForeignKey("core.JobProgress", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    undo_job = models.ForeignKey("core.JobProgress", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return self.file_name


class ImportTemplate(models.Model):
    """A mapping saved by a user under a name, to apply to the next file of the same shape."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=10, choices=ImportTarget.choices)
    name = models.CharField(_("template name"), max_length=100)
    mapping = models.JSONField(default=dict)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "target", "name"], name="import_template_unique")]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One committed chunk. Written in the chunk's own transaction, so it exists exactly when the chunk's
    records do; the unique number makes a second run of the same chunk fail instead of writing twice."""

    run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    created_ids = models.JSONField(default=list)  # [[first, last], ...] id ranges of created records
    created_accounts = models.JSONField(default=list)  # companies a contact import created, same form
    updated = models.JSONField(default=list)  # [[id, {column: value before}, {added rows}], ...]
    rejected = models.JSONField(default=list)  # [[line, [cells], {column or "": [messages]}], ...]
    flagged = models.JSONField(default=list)  # [[line, [cells], existing id or null, reason], ...]
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="import_batch_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.number}"


class ExternalKey(models.Model):
    """The id a record had in the system it was imported from, for the external_id match key."""

    target = models.CharField(max_length=10, choices=ImportTarget.choices)
    key = models.CharField(max_length=100)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "key"], name="external_key_unique")]
        indexes = [models.Index(fields=["target", "object_id"])]

    def __str__(self) -> str:
        return self.key
