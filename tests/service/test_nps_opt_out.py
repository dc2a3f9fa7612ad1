"""Saying no from the survey e-mail: every survey e-mail carries an opt-out link; opening it only asks (mail scanners
open links), the button withdraws the contact's marketing consent (audited, stamped) and skips their invitations not
sent yet; later surveys leave them out; an altered link is a 400 page and changes nothing."""

import re

from django.urls import reverse

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Contact
from guanxi.service import nps_services
from guanxi.service.nps_models import NpsInvitation, NpsSurvey

from .nps_fixtures import send


def _opt_out_path(body: str) -> str:
    urls = re.findall(r"https?://\S+", body)
    return "/" + next(u for u in urls if "/opt-out/" in u).split("/", 3)[3]


def test_the_opt_out_link_of_the_e_mail_withdraws_consent_only_when_confirmed(
        client, users, nps_book, smtp, tasks_now, english, django_capture_on_commit_callbacks):
    send(users["admin"], django_capture_on_commit_callbacks, language="en")
    message = next(m for m in smtp.messages if m["To"] == "zhang.wei@xingchen.cn")
    body = message.get_payload(decode=True).decode()
    assert "To receive no more surveys or marketing e-mail from us:" in body
    path = _opt_out_path(body)
    zhang = nps_book["zhang"]

    asked = client.get(path)
    assert asked.status_code == 200 and 'id="opt-out-form"' in asked.content.decode()
    assert Contact.objects.get(pk=zhang.pk).marketing_consent  # opening the link changes nothing

    done = client.post(path)
    assert done.status_code == 200 and 'id="opt-out-done"' in done.content.decode()
    after = Contact.objects.get(pk=zhang.pk)
    assert not after.marketing_consent and after.consent_changed_at is not None
    assert after.version == zhang.version + 1
    entry = AuditEntry.objects.filter(object_id=zhang.pk, changes__has_key="marketing_consent").latest("pk")
    assert entry.changes["marketing_consent"] == [True, False] and entry.actor is None
    assert client.post(path).status_code == 200  # again: harmless
    updates = AuditEntry.objects.filter(object_id=zhang.pk, action="update", changes__has_key="marketing_consent")
    assert updates.count() == 1


def test_opting_out_skips_invitations_not_sent_yet_and_later_surveys(
        users, nps_book, smtp, tasks_now, django_capture_on_commit_callbacks):
    zhang = nps_book["zhang"]
    first = send(users["admin"], django_capture_on_commit_callbacks, language="en")
    other = NpsSurvey.objects.create(name="另一份调查", language="zh-hans", created_by=users["admin"])
    waiting = NpsInvitation.objects.create(survey=other, contact=zhang, account=zhang.primary_account,
                                           email=zhang.email)
    assert nps_services.opt_out(NpsInvitation.objects.get(survey=first, contact=zhang)) is True
    waiting.refresh_from_db()
    assert waiting.skip_reason == "no_consent" and waiting.sent_at is None
    assert nps_services.opt_out(NpsInvitation.objects.get(survey=first, contact=zhang)) is False
    NpsInvitation.objects.filter(contact=zhang).delete()  # out of the quiet period: only consent decides now
    later = send(users["admin"], django_capture_on_commit_callbacks, language="en")
    assert NpsInvitation.objects.get(survey=later, contact=zhang).skip_reason == "no_consent"


def test_an_altered_opt_out_link_is_a_400_page_and_changes_nothing(client, users, nps_book, english):
    survey = NpsSurvey.objects.create(name="春季客户调查", language="zh-hans", created_by=users["admin"])
    zhang = nps_book["zhang"]
    invitation = NpsInvitation.objects.create(survey=survey, contact=zhang, email=zhang.email)
    token = nps_services.survey_token(invitation)
    response = client.post(reverse("service:nps_opt_out", args=[token[:-2] + "xx"]))
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert Contact.objects.get(pk=zhang.pk).marketing_consent
