"""Portal accounts: the customers' own log-ins, apart from the CRM's users.

A PortalUser is not a `core.User`: it has its own table, password and session key (see `session.py`), so no
CRM page, API route or permission ever sees one — signed in to the portal, a customer is still anonymous to
the CRM. Once the e-mail address is verified the account is linked to a Contact, and through the contact's
companies (accounts) to the tickets it may follow. A ReplyNotice is the e-mail that tells the customer an agent
answered a ticket they opened here.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.service.survey_mail import RetriedMail


class PortalUser(models.Model):
    email = models.CharField(_("email"), max_length=254, unique=True)  # normalised (quality.normalize_email)
    name = models.CharField(_("name"), max_length=100)
    company = models.CharField(_("company"), max_length=200)
    password = models.CharField(_("password"), max_length=128)
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="portal_users")
    is_active = models.BooleanField(_("active"), default=True)
    verified_at = models.DateTimeField(_("e-mail verified"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    last_login = models.DateTimeField(_("last log-in"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("portal user")
        verbose_name_plural = _("portal users")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def can_log_in(self) -> bool:
        return self.is_active and self.is_verified and self.contact_id is not None

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class ReplyNotice(RetriedMail):
    """The e-mail telling the contact of a ticket opened in the portal that an agent answered it: one per public
    reply (so never twice for one), written with the reply, sent after commit and retried by the sweep until it
    leaves (claimed once per attempt: see service.survey_mail)."""

    message = models.OneToOneField("service.TicketMessage", verbose_name=_("reply"), on_delete=models.CASCADE,
                                   related_name="portal_notice")

    class Meta:
        verbose_name = _("reply notice e-mail")
        verbose_name_plural = _("reply notice e-mails")
        indexes = [models.Index(fields=["sent_at", "attempts"])]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.sent_at or self.error or '…'}"
