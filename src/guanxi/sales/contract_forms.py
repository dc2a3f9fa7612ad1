"""Forms of the contract, delivery, payment and exchange-rate pages: plain inputs; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .payment_models import PaymentMethod
from .quote_forms import DataForm

DATE = forms.DateInput(attrs={"type": "date"})


class ContractForm(DataForm):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), required=False)
    account_id = forms.ChoiceField(label=_("Account"), required=False)
    order_id = forms.ChoiceField(label=_("Order"), required=False)
    start_date = forms.CharField(label=_("Start"), required=False, widget=DATE)
    end_date = forms.CharField(label=_("End"), required=False, widget=DATE)
    value = forms.CharField(label=_("Value"), required=False, help_text=_("Empty: the order's total."))
    currency = forms.CharField(label=_("Currency"), required=False, help_text=_("Empty: the order's, or CNY."))
    renewal_date = forms.CharField(label=_("Renewal date"), required=False, widget=DATE)
    renewal_reminder_days = forms.CharField(label=_("Remind days before renewal"), required=False, initial="30")
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    KEEP_EMPTY = ("notes", "renewal_date")

    def __init__(self, *args: Any, accounts: Any = (), orders: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = [("", "—")] + [(a.pk, a.name) for a in accounts]
        self.fields["order_id"].choices = [("", "—")] + [(o.pk, f"{o.number} · {o.account.name}") for o in orders]

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        data.pop("version", None)
        if data.get("renewal_date") == "":
            data["renewal_date"] = None
        return data


class PlanForm(DataForm):
    count = forms.CharField(label=_("Instalments"), required=False, initial="2")
    first_due = forms.CharField(label=_("First due"), required=False, widget=DATE)
    interval_months = forms.CharField(label=_("Every (months)"), required=False, initial="1")


class PaymentForm(DataForm):
    amount = forms.CharField(label=_("Amount"), required=False)
    received_on = forms.CharField(label=_("Received"), required=False, widget=DATE)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices, required=False)
    reference = forms.CharField(label=_("Reference"), required=False)


class RateForm(DataForm):
    currency = forms.CharField(label=_("Currency"), required=False, help_text=_("Three letters, such as USD."))
    rate = forms.CharField(label=_("Rate"), required=False, help_text=_("Units of the base currency for one unit."))
    valid_from = forms.CharField(label=_("Valid from"), required=False, widget=DATE)
