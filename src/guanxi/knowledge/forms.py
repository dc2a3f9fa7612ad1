"""Article and bulletin forms: plain inputs; every rule is in the services (errors come back by field name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import Team, User
from guanxi.sales.forms import ServiceErrorsMixin

from .models import Article, ArticleStatus, BulletinKind, Category, Language, Visibility


class ArticleForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    category_id = forms.ChoiceField(label=_("Category"), required=False)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    body = forms.CharField(label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=Article._meta.get_field("body").help_text)
    publish = forms.BooleanField(label=_("Publish now"), required=False)

    def __init__(self, data: Any = None, *, instance: Article | None = None) -> None:
        initial: dict[str, Any] = {}
        if instance is not None:
            initial = {"version": instance.version, "title": instance.title, "category_id": instance.category_id,
                       "visibility": instance.visibility, "language": instance.language, "body": instance.body,
                       "tags": ", ".join(t.name for t in instance.tags.all())}
        super().__init__(data, initial=initial)
        self.fields["category_id"].choices = [("", "—")] + [(c.pk, c.name) for c in Category.objects.all()]
        if instance is not None:
            del self.fields["publish"]

    def to_data(self) -> dict[str, Any]:
        data = {k: self.cleaned_data.get(k) for k in ("title", "category_id", "visibility", "language", "body",
                                                       "tags")}
        if self.cleaned_data.get("publish"):
            data["status"] = ArticleStatus.PUBLISHED
        return data


class BulletinForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    body = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    kind = forms.ChoiceField(label=_("Kind"), choices=BulletinKind.choices, initial=BulletinKind.GENERAL,
                             required=False)
    team_id = forms.ChoiceField(label=_("Audience"), required=False)
    expires_at = forms.CharField(label=_("Expires"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    pinned = forms.BooleanField(label=_("Pin to the top"), required=False)

    def __init__(self, data: Any = None, *, actor: User) -> None:
        super().__init__(data)
        teams = Team.objects.all()
        if not actor.is_administrator:
            teams = teams.filter(pk__in=[actor.team_id, *actor.visible_team_ids()])
        self.fields["team_id"].choices = [("", _("Everyone"))] + [(t.pk, t.name) for t in teams]

    def to_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
