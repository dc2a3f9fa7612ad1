"""The filter panel above the account and contact lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from guanxi.core.models import CustomField, FieldType, User
from guanxi.core.services import visible_users

from .models import Classification, Industry, LifecycleStage


class ListFilterForm(forms.Form):
    """The filters above a list; bound to the query string so the chosen values stay selected."""

    q = forms.CharField(label=_lazy("Search"), required=False)
    owner = forms.CharField(label=_lazy("Owner"), required=False, widget=forms.Select)
    tag = forms.CharField(label=_lazy("Tag"), required=False)

    def __init__(self, data: Any, *, user: User, model_key: str) -> None:
        super().__init__(data)
        self.custom_defs = list(CustomField.objects.filter(model=model_key, active=True))
        owners = [("", _("Anyone")), ("me", _("Me"))] + [
            (str(u.pk), str(u)) for u in visible_users(user).exclude(pk=user.pk).order_by("username")]
        self.fields["owner"].widget.choices = owners
        if model_key == "account":
            for name, label, choices in (("classification", _("Classification"), Classification.choices),
                                         ("lifecycle_stage", _("Lifecycle stage"), LifecycleStage.choices),
                                         ("industry", _("Industry"), Industry.choices)):
                self.fields[name] = forms.CharField(label=label, required=False, widget=forms.Select(
                    choices=[("", _("All"))] + list(choices)))
        for defn in self.custom_defs:
            self._add_custom_filter(defn)
        self.order_fields(["q", "classification", "lifecycle_stage", "industry", "owner", "tag"])

    def _add_custom_filter(self, defn: CustomField) -> None:
        name = f"custom.{defn.key}"
        kind = defn.field_type
        if kind in (FieldType.NUMBER, FieldType.MONEY, FieldType.DATE):
            input_type = "date" if kind == FieldType.DATE else "text"
            for op, label in (("gte", _("%(label)s from") % {"label": defn.label}),
                              ("lte", _("%(label)s to") % {"label": defn.label})):
                self.fields[f"{name}__{op}"] = forms.CharField(label=label, required=False, widget=forms.TextInput(
                    attrs={"type": input_type, "inputmode": "decimal"} if input_type == "text" else {"type": "date"}))
            return
        if kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            widget = forms.Select(choices=[("", _("All"))] + [(c, c) for c in defn.choices])
        elif kind == FieldType.BOOLEAN:
            widget = forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])
        else:
            widget = forms.TextInput()
        self.fields[name] = forms.CharField(label=defn.label, required=False, widget=widget)

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("q", "classification", "lifecycle_stage", "industry", "owner", "tag")
                if n in self.fields]

    @property
    def custom_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n.startswith("custom.")]

    @property
    def active_custom_count(self) -> int:
        return sum(1 for b in self.custom_fields if b.value())
