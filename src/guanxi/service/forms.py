"""The new-ticket form: plain inputs; every rule is in the services (errors come back by field name)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.sales.forms import ServiceErrorsMixin

from .models import Priority, QuestionGroup


class TicketForm(ServiceErrorsMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    question_group_id = forms.ChoiceField(label=_("Question group"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    account_id = forms.CharField(label=_("Account id"), required=False)
    contact_id = forms.CharField(label=_("Contact id"), required=False)
    order_id = forms.CharField(label=_("Order id"), required=False)
    product_id = forms.CharField(label=_("Product id"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["question_group_id"].choices = [("", "—")] + [
            (g.pk, str(g)) for g in QuestionGroup.objects.filter(active=True).select_related("parent")]
