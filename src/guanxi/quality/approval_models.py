"""Field rules set by administrators (required, sensitive, a pattern) and the change requests that a
change to a sensitive field becomes when its author may not make it directly."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import RecordKind


class FieldRule(models.Model):
    """What an administrator decided about one field of one record type."""

    kind = models.CharField(_("record type"), max_length=10, choices=RecordKind.choices)
    field = models.CharField(_("field"), max_length=60)  # "email", "owner", "custom.credit_limit" …
    required = models.BooleanField(_("required"), default=False)
    sensitive = models.BooleanField(_("sensitive"), default=False)
    pattern = models.CharField(_("pattern"), max_length=200, blank=True, default="")  # a regular expression
    message = models.CharField(_("message when it does not match"), max_length=200, blank=True, default="")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("field rule")
        verbose_name_plural = _("field rules")
        constraints = [models.UniqueConstraint(fields=["kind", "field"], name="fieldrule_once")]

    def __str__(self) -> str:
        return f"{self.kind}.{self.field}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ChangeRequest(models.Model):
    """A change to sensitive fields held until an approver accepts or rejects it.

    `data` is the input as the requester sent it for those fields (applied again on acceptance);
    `changes` is {field: [old, new]} as the audit trail shows it. Both audit entries, the request's and
    the decision's, are linked here.
    """

    kind = models.CharField(_("record type"), max_length=10, choices=RecordKind.choices)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, default="")
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    request_entry = models.ForeignKey("core.AuditEntry", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    decision_entry = models.ForeignKey("core.AuditEntry", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-requested_at"]),
            models.Index(fields=["kind", "object_id", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id}: {', '.join(self.changes)}"
