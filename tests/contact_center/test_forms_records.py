"""What a web form's submissions give the company afterwards: the acknowledgement mail received by a real SMTP
server, the submissions list (UI and API) shown only to who may see the lead or ticket, without a query per row,
and the submission on the contact's 360° timeline."""

from __future__ import annotations

import json
import re
from email.header import decode_header, make_header

import pytest

from guanxi.contact_center import form_services
from guanxi.contact_center.email_models import Mailbox, OutboundEmail
from guanxi.contact_center.form_models import FormSubmission
from guanxi.core.services import issue_token
from guanxi.customers.timeline import timeline_for
from guanxi.sales.lead_models import Lead
from tests.api.conftest import ApiClient
from tests.contact_center.conftest import ORIGIN, answers


def send(client, form, data, origin=ORIGIN):
    return client.post(f"/f/{form.public_key}/", json.dumps(data), content_type="application/json",
                       HTTP_ORIGIN=origin)


@pytest.fixture
def ack_mailbox(smtp, db):
    return Mailbox.objects.create(name="星辰客服", address="support@guanxi.test", imap_host="imap.invalid",
                                  imap_user="x", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")


def with_ack(form, mailbox, users, **extra):
    data = {k: getattr(form, k) for k in ("name", "kind", "fields", "allowed_origins", "queue_id",
                                          "question_group_id", "lead_owner_id", "actor_id")}
    return form_services.save_form(users["admin"], form, {
        **data, "ack_mailbox_id": mailbox.pk, "ack_subject": "{name} 已收到 {number}",
        "ack_body": "您好 {name}：\n您的编号是 {number}。{form.__class__}", **extra})


def test_a_ticket_form_acknowledges_by_mail(client, ticket_form, ack_mailbox, smtp, users,
                                            django_capture_on_commit_callbacks):
    form = with_ack(ticket_form, ack_mailbox, users)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, form, answers(form, Name="王芳", Email="wf@hospital.cn", Subject="打不开",
                                              Message="屏幕黑了"))
    assert response.status_code == 200, response.content
    number = response.json()["reference"]
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "wf@hospital.cn" and mail["Auto-Submitted"] == "auto-replied"
    assert str(make_header(decode_header(mail["Subject"]))) == f"王芳 已收到 {number} [#{number}]"
    body = mail.get_payload(decode=True).decode()
    assert f"您的编号是 {number}。" in body and "{form.__class__}" in body  # placeholders are plain, no look-ups
    submission = FormSubmission.objects.get()
    assert submission.ack_email.sent_at is not None and submission.ack_email.ticket == submission.ticket


def test_a_lead_form_acknowledges_and_a_flood_of_one_address_is_capped(client, lead_form, ack_mailbox, smtp, users,
                                                                         settings, django_capture_on_commit_callbacks):
    settings.EMAIL_ACK_PER_HOUR = 2
    form = with_ack(lead_form, ack_mailbox, users)
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert send(client, form, answers(form, Name=f"刘{i}", Email="liu@hd.cn")).status_code == 200
    assert Lead.objects.count() == 3 and len(smtp.messages) == 2  # the leads all made, the mails capped
    lead = Lead.objects.order_by("pk").first()
    assert f"L{lead.pk}" in smtp.messages[0].get_payload(decode=True).decode()
    assert OutboundEmail.objects.filter(ticket__isnull=True).count() == 2


def test_an_unsent_acknowledgement_does_not_lose_the_submission(client, ticket_form, ack_mailbox, users,
                                                                 django_capture_on_commit_callbacks):
    from tests.contact_center.conftest import free_port

    form = with_ack(ticket_form, ack_mailbox, users)
    Mailbox.objects.filter(pk=ack_mailbox.pk).update(smtp_port=free_port())  # the SMTP server is down
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, form, answers(form, Name="王芳", Email="wf@hospital.cn", Subject="s", Message="m"))
    assert response.status_code == 200
    out = FormSubmission.objects.get().ack_email
    assert out.sent_at is None and out.error  # kept for the sweep to retry
    client.force_login(users["admin"])
    page = client.get(f"/web-forms/{form.pk}/submissions/").content.decode()
    assert "Connection" in page or "refused" in page.lower()


@pytest.fixture
def two_leads(client, users, custom_fields, settings):
    """Two lead forms' worth of leads: one form gives its leads to rep_a, the other to rep_b."""
    settings.CC_FORM_PER_IP_PER_MINUTE = 100
    forms = {}
    for rep in ("rep_a", "rep_b"):
        forms[rep] = form_services.save_form(users["admin"], None, {
            "name": f"表单 {rep}", "kind": "lead", "actor_id": users["admin"].pk, "lead_owner_id": users[rep].pk,
            "allowed_origins": [ORIGIN],
            "fields": [{"label_en": "Name", "type": "text", "target": "lead.name"},
                       {"label_en": "Email", "type": "email", "target": "lead.email"}]})
    return forms


def test_submissions_are_shown_only_to_who_may_see_their_records(client, two_leads, users):
    form = two_leads["rep_a"]
    for i in range(3):
        assert send(client, form, answers(form, Name=f"客户{i}", Email=f"c{i}@x.cn")).status_code == 200
    api = {name: ApiClient(issue_token(users[name]))
           for name in ("admin", "rep_a", "rep_b", "manager_a")}
    seen = {name: len(c.get(f"web-forms/{form.pk}/submissions").json()["items"]) for name, c in api.items()}
    assert seen == {"admin": 3, "rep_a": 3, "rep_b": 0, "manager_a": 3}
    item = api["rep_a"].get(f"web-forms/{form.pk}/submissions", {"limit": 2}).json()
    assert len(item["items"]) == 2 and item["next"]
    assert item["items"][0]["lead"]["name"] == "客户2" and item["items"][0]["data"]["f1"] == "客户2"
    assert api["rep_a"].get("web-forms/999999/submissions").status_code == 404
    client.force_login(users["rep_b"])
    page = client.get(f"/web-forms/{form.pk}/submissions/")
    assert page.status_code == 200 and "客户0" not in page.content.decode()
    client.force_login(users["rep_a"])
    assert "客户0" in client.get(f"/web-forms/{form.pk}/submissions/?cursor=garbage").content.decode()


def test_the_submissions_list_takes_a_fixed_number_of_queries(client, two_leads, users,
                                                              django_assert_max_num_queries):
    form = two_leads["rep_a"]
    for i in range(12):
        assert send(client, form, answers(form, Name=f"客户{i}", Email=f"c{i}@x.cn")).status_code == 200
    client.force_login(users["manager_a"])
    with django_assert_max_num_queries(15):  # session, user, form, the visibility rules, one page: no query per row
        page = client.get(f"/web-forms/{form.pk}/submissions/")
    assert len(re.findall(r'href="/sales/leads/\d+/"', page.content.decode())) == 12
    api = ApiClient(issue_token(users["manager_a"]))
    with django_assert_max_num_queries(13):
        assert len(api.get(f"web-forms/{form.pk}/submissions").json()["items"]) == 12


def test_a_ticket_form_submission_is_on_the_contacts_timeline(client, ticket_form, users):
    send(client, ticket_form, answers(ticket_form, Name="王芳", Email="wf@x.cn", Subject="s", Message="m"))
    submission = FormSubmission.objects.select_related("contact", "ticket").get()
    items = [i for i in timeline_for(submission.contact, users["admin"]) if i.kind == "form"]
    assert len(items) == 1 and "售后表单" in items[0].title and submission.ticket.number in items[0].body
    assert not [i for i in timeline_for(submission.contact, users["rep_b"]) if i.kind == "form"]
