"""Forms of the catalogue and quote pages: plain inputs; the services hold every rule (errors by field name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .catalog_models import PriceList, ProductCategory, ProductKind, Unit
from .forms import ServiceErrorsMixin


class DataForm(ServiceErrorsMixin, forms.Form):
    """A form whose non-empty values go to a service as they are."""

    KEEP_EMPTY: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None) or k in self.KEEP_EMPTY}


class ProductForm(DataForm):
    code = forms.CharField(label=_("Code (SKU)"), required=False)
    name = forms.CharField(label=_("Name"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices)
    category_id = forms.ChoiceField(label=_("Category"), required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    tax_rate = forms.CharField(label=_("Tax rate (%)"), required=False, initial="13")
    cost = forms.CharField(label=_("Cost"), required=False, help_text=_("For the margin; never printed."))
    active = forms.BooleanField(label=_("Sold (active)"), required=False, initial=True)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    KEEP_EMPTY = ("active", "description", "cost", "category_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_id"].choices = [("", "—")] + [(c.pk, str(c)) for c in
                                                             ProductCategory.objects.select_related("parent")]


class PriceListForm(DataForm):
    name = forms.CharField(label=_("Name"), required=False)
    currency = forms.CharField(label=_("Currency"), required=False, initial="CNY",
                               help_text=_("Three letters, such as CNY or USD."))
    valid_from = forms.CharField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.CharField(label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_default = forms.BooleanField(label=_("Default for its currency"), required=False)
    KEEP_EMPTY = ("is_default",)

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        for key in ("valid_from", "valid_to"):
            data.setdefault(key, None)
        return data


class PriceForm(DataForm):
    product_id = forms.CharField(label=_("Product"), required=False)
    unit_price = forms.CharField(label=_("Unit price"), required=False)
    min_quantity = forms.CharField(label=_("From quantity"), required=False, initial="1")


class QuoteForm(DataForm):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), required=False)
    account_id = forms.ChoiceField(label=_("Account"), required=False)
    opportunity_id = forms.ChoiceField(label=_("Opportunity"), required=False)
    contact_id = forms.ChoiceField(label=_("Contact"), required=False)
    price_list_id = forms.ChoiceField(label=_("Price list"), required=False)
    currency = forms.CharField(label=_("Currency"), required=False, help_text=_("Empty: the price list's."))
    valid_until = forms.CharField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(label=_("Internal notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, accounts: Any = (), opportunities: Any = (), contacts: Any = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = [("", "—")] + [(a.pk, a.name) for a in accounts]
        self.fields["opportunity_id"].choices = [("", "—")] + [(o.pk, f"{o.name} · {o.account.name}")
                                                               for o in opportunities]
        self.fields["contact_id"].choices = [("", "—")] + [(c.pk, c.name) for c in contacts]
        self.fields["price_list_id"].choices = [("", "—")] + [(p.pk, str(p)) for p in PriceList.objects.all()]

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        data.pop("version", None)
        return data


class LineForm(DataForm):
    product_id = forms.CharField(required=False)
    description = forms.CharField(label=_("Description"), required=False)
    quantity = forms.CharField(label=_("Quantity"), required=False, initial="1")
    unit_price = forms.CharField(label=_("Unit price"), required=False)
    discount = forms.CharField(label=_("Discount (%)"), required=False)
    tax_rate = forms.CharField(label=_("Tax rate (%)"), required=False)
