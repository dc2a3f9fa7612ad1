"""The mailbox form: plain inputs; email_services holds every rule. Passwords are never shown back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.sales.quote_forms import DataForm
from guanxi.service.models import QuestionGroup, Queue

from .email_models import Mailbox, MailboxMode, Security

KEEP_BLANK_HELP = _("Leave blank to keep the stored password.")


class MailboxForm(DataForm):
    name = forms.CharField(label=_("Name"), required=False)
    address = forms.CharField(label=_("Address"), required=False)
    active = forms.BooleanField(label=_("Active (polled every minute)"), required=False, initial=True)
    use_idle = forms.BooleanField(label=_("Push: read new mail at once (IMAP IDLE)"), required=False, initial=True,
                                  help_text=_("Holds one more connection to the server open; servers without IDLE "
                                              "are polled."))
    imap_host = forms.CharField(label=_("IMAP host"), required=False)
    imap_port = forms.CharField(label=_("IMAP port"), required=False, initial="993")
    imap_security = forms.ChoiceField(label=_("IMAP security"), choices=Security.choices)
    imap_user = forms.CharField(label=_("IMAP user"), required=False)
    imap_password = forms.CharField(label=_("IMAP password"), required=False,
                                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
    imap_folder = forms.CharField(label=_("IMAP folder"), required=False, initial="INBOX")
    smtp_host = forms.CharField(label=_("SMTP host"), required=False)
    smtp_port = forms.CharField(label=_("SMTP port"), required=False, initial="465")
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=Security.choices)
    smtp_user = forms.CharField(label=_("SMTP user"), required=False)
    smtp_password = forms.CharField(label=_("SMTP password"), required=False,
                                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
    question_group_id = forms.ChoiceField(label=_("Default question group"), required=False)
    queue_id = forms.ChoiceField(label=_("Default queue"), required=False)
    auto_acknowledge = forms.BooleanField(label=_("Acknowledge new tickets by email"), required=False, initial=True)
    mode = forms.ChoiceField(label=_("Use"), choices=MailboxMode.choices, initial=MailboxMode.TICKETS, required=False,
                             help_text=_("A logging address takes mail only from Guanxi users (BCC or forward) and "
                                         "puts it on the contacts' timelines."))
    KEEP_EMPTY = ("active", "use_idle", "auto_acknowledge", "question_group_id", "queue_id", "smtp_host", "smtp_user")

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        if mailbox is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {**{k: getattr(mailbox, k) for k in self.base_fields
                                    if hasattr(mailbox, k) and not k.endswith("password")}}
        super().__init__(*args, **kwargs)
        self.fields["question_group_id"].choices = [("", "—")] + [
            (g.pk, str(g)) for g in QuestionGroup.objects.filter(active=True).order_by("name")]
        self.fields["queue_id"].choices = [("", "—")] + [(q.pk, str(q)) for q in Queue.objects.order_by("name")]
        if mailbox is not None:
            for key in ("imap_password", "smtp_password"):
                self.fields[key].help_text = KEEP_BLANK_HELP


class ReconcileForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=90, initial=7)


class AutoAnswerForm(DataForm):
    enabled = forms.BooleanField(label=_("Answer new email tickets of this group automatically"), required=False)
    min_score = forms.CharField(label=_("Minimum score"), required=False, initial="6",
                                help_text=_("3 points per keyword in an article's title, 1 per keyword only in its "
                                            "text."))
    max_articles = forms.CharField(label=_("Articles at most"), required=False, initial="3")
    template = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("Empty: the standard message. Placeholders: {ticket}, {token}, {subject}, "
                                           "{customer}, {articles}."))
    KEEP_EMPTY = ("enabled", "template")
