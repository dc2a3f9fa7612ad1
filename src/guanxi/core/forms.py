"""Forms of the core pages: saved list views and the custom-field administration."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _lazy

from .customfield_services import create_custom_field, update_custom_field
from .models import CustomField, FieldType, SavedView, User
from .people_services import SAVED_VIEW_MODELS, save_view

CUSTOM_FIELD_MODELS = [("account", _lazy("Accounts")), ("contact", _lazy("Contacts"))]


class SavedViewForm(forms.Form):
    """Save a list's current query string under a name (saving a name again replaces it)."""

    model = forms.ChoiceField(choices=[(m, m) for m in SAVED_VIEW_MODELS], widget=forms.HiddenInput)
    name = forms.CharField(label=_lazy("Name"), max_length=100)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_query(self) -> str:
        params = QueryDict(self.cleaned_data.get("query") or "", mutable=True)
        params.pop("cursor", None)  # a saved view always starts on its first page
        return params.urlencode()

    def save(self, user: User) -> SavedView:
        return save_view(user, self.cleaned_data["model"], self.cleaned_data["name"], self.cleaned_data["query"])


class CustomFieldForm(forms.Form):
    """Collects a custom-field definition for `customfield_services`, which validates and saves it.
    Record type, key and type are fixed once the field exists (stored values depend on them)."""

    model = forms.ChoiceField(label=_lazy("Record type"), choices=CUSTOM_FIELD_MODELS)
    key = forms.CharField(label=_lazy("Key"), required=False, max_length=40, help_text=_lazy(
        "Lower-case letters, digits and _; used in the API and in filters (custom.<key>). Cannot change later."))
    label_zh = forms.CharField(label=_lazy("Chinese label"), required=False, max_length=100)
    label_en = forms.CharField(label=_lazy("English label"), required=False, max_length=100)
    field_type = forms.ChoiceField(label=_lazy("Type"), choices=FieldType.choices)
    choices = forms.CharField(label=_lazy("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_lazy("For choice and multiple-choice fields: one choice per line."))
    required = forms.BooleanField(label=_lazy("Required"), required=False)
    show_in_list = forms.BooleanField(label=_lazy("Show in lists"), required=False)
    currency = forms.CharField(label=_lazy("Currency"), required=False, max_length=3,
                               help_text=_lazy("For money fields, e.g. CNY."))
    position = forms.IntegerField(label=_lazy("Position"), required=False, min_value=0)

    def __init__(self, *args, instance: CustomField | None = None, **kwargs) -> None:
        self.instance = instance
        if instance is not None:
            kwargs["initial"] = {
                "model": instance.model, "key": instance.key, "label_zh": instance.label_zh,
                "label_en": instance.label_en, "field_type": instance.field_type,
                "choices": "\n".join(instance.choices or []), "required": instance.required,
                "show_in_list": instance.show_in_list, "currency": instance.currency, "position": instance.position,
                **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            for name in ("model", "key", "field_type"):
                self.fields[name].disabled = True
        self.fields["key"].widget.attrs["required"] = True

    def to_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        lines = [line.strip() for line in (data.pop("choices") or "").splitlines()]
        data["choices"] = [line for line in lines if line]
        if data.get("position") is None:
            data.pop("position")
        if self.instance is not None:
            for name in ("model", "key", "field_type"):
                data.pop(name, None)
            if self.instance.field_type not in ("choice", "multi_choice") and not data["choices"]:
                data.pop("choices")
        return data

    def save_by(self, actor: User) -> CustomField | None:
        """Create or update through the service; on bad input the errors land on the fields and None is
        returned."""
        try:
            if self.instance is None:
                return create_custom_field(actor, self.to_data())
            return update_custom_field(actor, self.instance, self.to_data())
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(key if key in self.fields else None, messages)
            return None


def set_custom_field_active(actor: User, field: CustomField, active: bool) -> CustomField:
    """Deactivate (hidden from forms, lists and filters; stored values stay) or reactivate a field."""
    return update_custom_field(actor, field, {"active": active})
