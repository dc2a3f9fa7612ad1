"""The opportunity form: plain inputs; every rule is in the services (errors come back by field name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import User
from guanxi.core.services import assignable_users

from .models import Opportunity, Pipeline, Stage, StageKind


class ServiceErrorsMixin:
    """Puts the services' errors (keyed by field name) next to their inputs, the others above the form."""

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


class OpportunityForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    account_id = forms.CharField(required=False, widget=forms.HiddenInput)
    contact_id = forms.CharField(required=False, widget=forms.HiddenInput)
    pipeline_id = forms.ChoiceField(label=_("Pipeline"), required=False)
    stage_id = forms.ChoiceField(label=_("Stage"), required=False)
    amount = forms.CharField(label=_("Amount"), required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    expected_close = forms.CharField(label=_("Expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    probability = forms.CharField(label=_("Probability (%)"), required=False,
                                  help_text=_("Empty: the stage's probability."))
    lost_reason = forms.CharField(label=_("Lost reason"), max_length=200, required=False)
    competitors = forms.CharField(label=_("Competitors"), max_length=200, required=False,
                                  help_text=_("Separate names with commas."))
    owner_id = forms.ChoiceField(label=_("Owner"), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    PLAIN = ["name", "amount", "currency", "expected_close", "probability", "lost_reason", "competitors",
             "description", "account_id", "contact_id", "pipeline_id", "stage_id", "owner_id"]

    def __init__(self, data: Any = None, *, actor: User, instance: Opportunity | None = None,
                 initial: dict[str, Any] | None = None) -> None:
        self.instance = instance
        base: dict[str, Any] = {}
        if instance is not None:
            base = {name: getattr(instance, name) for name in self.PLAIN}
            base["version"] = instance.version
            base["amount"] = f"{instance.amount:.2f}"
            base["expected_close"] = instance.expected_close.isoformat() if instance.expected_close else ""
        super().__init__(data, initial={**base, **(initial or {})})
        pipelines = list(Pipeline.objects.all())
        self.fields["pipeline_id"].choices = [("", "—")] + [(p.pk, p.name) for p in pipelines]
        self.fields["stage_id"].choices = [("", "—")] + [
            (s.pk, f"{s.pipeline.name} · {s.name} ({s.probability} %)")
            for s in Stage.objects.select_related("pipeline").order_by("pipeline__name", "position")]
        owners = assignable_users(actor).order_by("username")[:500]
        self.fields["owner_id"].choices = [(u.pk, str(u)) for u in owners]
        if instance is None:
            self.initial.setdefault("owner_id", actor.pk)

    def to_data(self) -> dict[str, Any]:
        """What the form sent, for the services; an empty stage or owner means "keep"."""
        data = {name: self.cleaned_data.get(name) for name in self.PLAIN}
        for key in ("stage_id", "pipeline_id", "owner_id", "probability", "contact_id", "currency",
                    "expected_close"):
            if data.get(key) in ("", None):
                data.pop(key)
        if self.instance is not None and self.cleaned_data.get("contact_id") == "":
            data["contact_id"] = None
        if self.cleaned_data.get("expected_close") == "":
            data["expected_close"] = None
        return data


class PipelineForm(ServiceErrorsMixin, forms.Form):
    """Name and currency of a pipeline; the services check them."""

    name = forms.CharField(label=_("Name"), required=False)
    currency = forms.CharField(label=_("Currency"), required=False,
                               help_text=_("Three letters, such as CNY or USD."))


class StageForm(ServiceErrorsMixin, forms.Form):
    """One stage: name, default probability and kind."""

    name = forms.CharField(label=_("Name"), required=False)
    probability = forms.CharField(label=_("Probability (%)"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The inputs sit in table cells; `form=` ties them to the row's <form> element.
        for field in self.fields.values():
            field.widget.attrs.update({"form": self.form_id, "aria-label": str(field.label)})

    @property
    def form_id(self) -> str:
        return f"{self.prefix or 'stage'}-form"
