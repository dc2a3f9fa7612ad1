"""Lead forms: plain inputs; every rule is in the lead services (errors come back by field name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import User
from guanxi.core.services import assignable_users
from guanxi.customers.models import Industry, Source

from .forms import ServiceErrorsMixin
from .lead_models import Lead, LeadRating
from .models import Pipeline


class LeadForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=[("", "—")] + Source.choices, required=False)
    industry = forms.ChoiceField(label=_("Industry"), choices=[("", "—")] + Industry.choices, required=False)
    province = forms.CharField(label=_("Province"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    rating = forms.ChoiceField(label=_("Rating"), choices=[("", "—")] + LeadRating.choices, required=False)
    owner_id = forms.ChoiceField(label=_("Owner"), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    PLAIN = ["name", "company", "title", "phone", "email", "source", "industry", "province", "city", "rating",
             "description"]
    AUTO = "auto"

    def __init__(self, data: Any = None, *, actor: User, instance: Lead | None = None) -> None:
        self.instance = instance
        initial: dict[str, Any] = {}
        if instance is not None:
            initial = {name: getattr(instance, name) for name in self.PLAIN}
            initial.update(version=instance.version, owner_id=instance.owner_id)
        super().__init__(data, initial=initial)
        owners = [(u.pk, str(u)) for u in assignable_users(actor).order_by("username")[:500]]
        if instance is None:
            # New leads may be handed to the assignment rules instead of a named owner.
            self.fields["owner_id"].choices = [(self.AUTO, _("By the assignment rules"))] + owners
            self.initial["owner_id"] = actor.pk
        else:
            self.fields["owner_id"].choices = owners

    def to_data(self) -> tuple[dict[str, Any], bool]:
        """(data for the services, whether the assignment rules choose the owner)."""
        data = {name: self.cleaned_data.get(name) or "" for name in self.PLAIN}
        owner = self.cleaned_data.get("owner_id")
        if owner == self.AUTO:
            return data, True
        if owner not in ("", None):
            data["owner_id"] = owner
        return data, False


class ConvertForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account_id = forms.ChoiceField(label=_("Account"), required=False)
    account_name = forms.CharField(label=_("New account's name"), max_length=200, required=False)
    create_opportunity = forms.BooleanField(label=_("Create an opportunity"), required=False, initial=True)
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.CharField(label=_("Amount"), required=False)
    pipeline_id = forms.ChoiceField(label=_("Pipeline"), required=False)
    expected_close = forms.CharField(label=_("Expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any = None, *, lead: Lead, matches: list) -> None:
        super().__init__(data, initial={"version": lead.version, "account_name": lead.company or lead.name,
                                        "opportunity_name": f"{lead.company or lead.name} · {lead.name}"})
        self.fields["account_id"].choices = [("", _("A new account"))] + [(a.pk, a.name) for a in matches]
        self.fields["pipeline_id"].choices = [("", _("The default pipeline"))] + [
            (p.pk, p.name) for p in Pipeline.objects.all()]

    def to_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if v not in ("", None) and k != "version"}
        data["create_opportunity"] = bool(self.cleaned_data.get("create_opportunity"))
        return data
