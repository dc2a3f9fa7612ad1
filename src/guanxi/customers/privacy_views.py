"""Personal-data requests from a contact's page: the JSON export and the erasure confirmation."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.access import require_admin

from .models import Contact
from .privacy import erase_person, export_person
from .services import validation_messages


class EraseForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Type the contact's current name to confirm"), max_length=100)
    reason = forms.CharField(label=gettext_lazy("Reason (e.g. the request it answers)"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, contact: Contact, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contact = contact

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name != self.contact.name.strip():
            raise forms.ValidationError(_("This is not the contact's current name."))
        return name


@login_required
def contact_personal_data(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything held about the person, as a JSON download."""
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    data = export_person(request.user, contact)
    body = json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-personal-data.json"'
    return response


@login_required
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
    require_admin(request.user, _("Only administrators may erase a person's data."))
    form = EraseForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            erase_person(request.user, contact, form.cleaned_data["reason"])
        except ValidationError as exc:
            for field, problems in validation_messages(exc).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, _("The person's data was erased."))
            return redirect("customers:contact_detail", contact.pk)
    return render(request, "customers/privacy_erase.html", {"obj": contact, "form": form})
