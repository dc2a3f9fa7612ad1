"""Forms of the service desk's settings pages. They read the inputs (lists as "a, b", dated lines, hours per
weekday); setup_services holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import Role, User
from guanxi.sales.forms import ServiceErrorsMixin

from .business_time import WEEKDAYS
from .models import BusinessCalendar, QuestionGroup, Queue, SlaPolicy
from .setup_services import parse_dated_lines

LIST_HELP = _("Separated by commas, e.g. billing, network.")


def _words(text: str) -> list[str]:
    return sorted({w.strip()[:50] for w in (text or "").replace("，", ",").split(",") if w.strip()})


class SetupForm(ServiceErrorsMixin, forms.ModelForm):
    LISTS: tuple[str, ...] = ()  # JSON list fields typed as "a, b"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.LISTS:
            self.fields[name] = forms.CharField(label=self._meta.model._meta.get_field(name).verbose_name,
                                               required=False, help_text=LIST_HELP)
            self.initial[name] = ", ".join(getattr(self.instance, name) or [])

    def _post_clean(self) -> None:
        for name in self.LISTS:
            if name in self.cleaned_data:
                self.cleaned_data[name] = _words(self.cleaned_data[name])
        super()._post_clean()

    def _get_validation_exclusions(self):  # the service runs full_clean (with the rules across records)
        return {f.name for f in self._meta.model._meta.fields}


class QueueForm(SetupForm):
    LISTS = ("senior_for", "required_skills")

    class Meta:
        model = Queue
        fields = ["name", "strategy", "required_skills", "supervisor", "calendar", "is_senior", "senior_queue",
                  "senior_for", "senior_from_value", "reroute_after_minutes", "reassign_on_breach"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.ADMIN, Role.SERVICE_MANAGER, Role.SERVICE_AGENT]).order_by("username")
        self.fields["senior_for"].help_text = _('Account classifications, e.g. A (or "A, B").')


class QuestionGroupForm(SetupForm):
    LISTS = ("skills",)

    class Meta:
        model = QuestionGroup
        fields = ["name", "parent", "queue", "skills", "active", "public"]


class SlaPolicyForm(SetupForm):
    class Meta:
        model = SlaPolicy
        fields = ["name", "priority", "classification", "first_response_minutes", "resolution_minutes", "calendar"]


class CalendarForm(SetupForm):
    hours = forms.CharField(label=_("Working hours"), required=False, widget=forms.Textarea(attrs={"rows": 7}),
                            help_text=_("One weekday a line: mon 09:00-12:00 13:30-18:00; a day with no hours "
                                        "(sat) is closed."))
    makeup_hours = forms.CharField(label=_("Hours on make-up working days"), required=False,
                                   help_text=_("e.g. 09:00-18:00; empty: the hours of the weekday it replaces."))
    holidays = forms.CharField(label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                               help_text=_("One a line: 2026-10-01 National Day"))
    workdays = forms.CharField(label=_("Make-up working days (调休)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("One a line: 2026-09-27 National Day"))

    class Meta:
        model = BusinessCalendar
        fields = ["name", "timezone", "is_default", "hours", "makeup_hours", "holidays", "workdays"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cal = self.instance
        if cal.pk and not self.is_bound:
            self.initial["hours"] = "\n".join(f"{day} {' '.join(spans)}".strip()
                                              for day, spans in (cal.hours or {}).items())
            self.initial["makeup_hours"] = " ".join(cal.makeup_hours or [])
            for key in ("holidays", "workdays"):
                self.initial[key] = "\n".join(f"{d} {n}".strip() for d, n in sorted((getattr(cal, key) or {}).items()))

    def clean_hours(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for line in (self.cleaned_data["hours"] or "").splitlines():
            day, *spans = line.split()
            if day.lower() not in WEEKDAYS:
                raise ValidationError(_("“%(day)s” is not a weekday (use %(days)s).")
                                      % {"day": day[:20], "days": ", ".join(WEEKDAYS)})
            out[day.lower()] = spans
        return out

    def clean_makeup_hours(self) -> list[str] | None:
        return (self.cleaned_data["makeup_hours"] or "").split() or None

    def clean_holidays(self) -> dict[str, str]:
        return self._dated("holidays")

    def clean_workdays(self) -> dict[str, str]:
        return self._dated("workdays")

    def _dated(self, name: str) -> dict[str, str]:
        try:
            return parse_dated_lines(self.cleaned_data[name], name)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[name]) from None
