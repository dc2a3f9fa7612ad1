"""Accounts (companies), contacts (people), their phones and emails, and addresses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import CustomFieldsModel, OwnedModel, TimestampedModel, VersionedModel

from .pool_models import PoolMembership


class Classification(models.TextChoices):
    A = "A", _("A — key")
    B = "B", _("B — important")
    C = "C", _("C — ordinary")
    D = "D", _("D — low value")


class LifecycleStage(models.TextChoices):
    AWARENESS = "awareness", _("Awareness")
    ACQUISITION = "acquisition", _("Acquisition")
    GROWTH = "growth", _("Growth")
    MATURITY = "maturity", _("Maturity")
    DECLINE = "decline", _("Decline")
    LOST = "lost", _("Lost")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    HEALTHCARE = "healthcare", _("Healthcare")
    IT = "it", _("IT and software")
    FINANCE = "finance", _("Finance")
    RETAIL = "retail", _("Retail and e-commerce")
    EDUCATION = "education", _("Education")
    LOGISTICS = "logistics", _("Logistics")
    ENERGY = "energy", _("Energy")
    CONSTRUCTION = "construction", _("Construction and real estate")
    FOOD = "food", _("Food and agriculture")
    SERVICES = "services", _("Professional services")
    GOVERNMENT = "government", _("Government and public sector")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    MICRO = "1-9", _("1–9 employees")
    SMALL = "10-49", _("10–49 employees")
    MEDIUM = "50-249", _("50–249 employees")
    LARGE = "250-999", _("250–999 employees")
    ENTERPRISE = "1000+", _("1,000+ employees")


class Source(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    EXHIBITION = "exhibition", _("Trade show")
    COLD_CALL = "cold_call", _("Cold call")
    ADVERTISING = "advertising", _("Advertising")
    PARTNER = "partner", _("Partner")
    SOCIAL = "social", _("Social media (WeChat, Weibo …)")
    WEB_FORM = "web_form", _("Web form")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Visit")


class Account(PoolMembership, OwnedModel, VersionedModel, CustomFieldsModel, TimestampedModel):
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True, default="")
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True, default="")
    classification = models.CharField(
        _("classification"), max_length=1, choices=Classification.choices, blank=True, default=""
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True, default="")
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.AWARENESS
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    website = models.CharField(_("website"), max_length=200, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    tags = models.ManyToManyField("core.Tag", verbose_name=_("tags"), blank=True, related_name="accounts")
    # Name, pinyin, initials, phone digits and email: what the search box matches.
    search_text = models.TextField(editable=False, default="")
    # Two-character terms ("yang li", most Chinese given names) use the search index too (core.search), on
    # SQLite only: PostgreSQL's stored pairs more than doubled the table (docs/benchmarks.md, 2026-11-24 night).
    search_pairs_indexed = ("sqlite",)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            models.Index(fields=["owner", "id"]),
            # A rep's own list sorted by name or recency walks one index, not a sort of all their rows.
            models.Index(fields=["owner", "name", "id"]),
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["team", "id"]),
            models.Index(fields=["name", "id"]),
            models.Index(fields=["classification", "id"]),
            models.Index(fields=["lifecycle_stage", "id"]),
            models.Index(fields=["industry", "id"]),
            models.Index(fields=["updated_at", "id"]),
            # The pool list (owner IS NULL) newest first, keyset-paged.
            models.Index(fields=["owner", "pool_entered_at", "id"]),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedModel, VersionedModel, CustomFieldsModel, TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True, default="")
    department = models.CharField(_("department"), max_length=100, blank=True, default="")
    accounts = models.ManyToManyField(Account, verbose_name=_("accounts"), blank=True, related_name="contacts")
    # The first account, kept on the row so lists show it without a query per row.
    primary_account = models.ForeignKey(
        Account, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,  # (primary_account, name) below serves it
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")  # primary, E.164
    email = models.CharField(_("email"), max_length=254, blank=True, default="")  # primary, normalised
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True, default=""
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_changed_at = models.DateTimeField(_("consent changed"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True, default="")
    tags = models.ManyToManyField("core.Tag", verbose_name=_("tags"), blank=True, related_name="contacts")
    search_text = models.TextField(editable=False, default="")
    # Two-character terms ("yang li", most Chinese given names) use the search index too (core.search), on
    # SQLite only: PostgreSQL's stored pairs more than doubled the table (docs/benchmarks.md, 2026-11-24 night).
    search_pairs_indexed = ("sqlite",)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["owner", "id"]),
            models.Index(fields=["owner", "name", "id"]),
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["team", "id"]),
            models.Index(fields=["name", "id"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["email"]),
            models.Index(fields=["updated_at", "id"]),
            # Covering for "same name at the same company" (import, duplicates): no row read per contact.
            models.Index(fields=["primary_account", "name"]),
        ]

    def __str__(self) -> str:
        return self.name


class ContactMethodKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class ContactMethod(models.Model):
    """One phone or email of a contact: what was typed, and the normalised key used for search and dedup."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="methods")
    kind = models.CharField(max_length=5, choices=ContactMethodKind.choices)
    value = models.CharField(_("as entered"), max_length=254)
    normalized = models.CharField(max_length=254)
    label = models.CharField(_("label"), max_length=30, blank=True, default="")
    is_primary = models.BooleanField(default=False)
    # Mail to this address bounced (set by the email channel); kept so nobody mails it again unknowingly.
    invalid_since = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    invalid_reason = models.CharField(_("why undeliverable"), max_length=200, blank=True, default="", db_default="")

    class Meta:
        indexes = [models.Index(fields=["kind", "normalized"])]
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.value


class AddressKind(models.TextChoices):
    OFFICE = "office", _("Office")
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    HOME = "home", pgettext_lazy("address kind", "Home")


class Address(models.Model):
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=10, choices=AddressKind.choices, default=AddressKind.OFFICE)
    country = models.CharField(_("country"), max_length=2, default="CN")
    province = models.CharField(_("province"), max_length=50, blank=True, default="")
    city = models.CharField(_("city"), max_length=50, blank=True, default="")
    district = models.CharField(_("district"), max_length=50, blank=True, default="")
    street = models.CharField(_("street"), max_length=200, blank=True, default="")
    postcode = models.CharField(_("postcode"), max_length=12, blank=True, default="")

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False) | models.Q(contact__isnull=False),
                name="address_has_owner",
            )
        ]

    LINE_PARTS = ("province", "city", "district", "street", "postcode")

    def __str__(self) -> str:
        return self.line_of(self.__dict__)

    @classmethod
    def line_of(cls, parts: dict) -> str:
        """The address on one line, in the Chinese order (also used on `values()` rows)."""
        return " ".join(parts[k] for k in cls.LINE_PARTS if parts.get(k))


from .import_models import ExternalKey, Import, ImportBatch, ImportTemplate  # noqa: E402,F401
from .pool_models import ClaimLimit, PoolRule  # noqa: E402,F401
