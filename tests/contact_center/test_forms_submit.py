"""A person submits a web form (no login): leads and tickets created with their mapped fields (custom ones too),
the contact matched rather than duplicated, consent recorded; robots, floods, foreign origins and bad answers
refused with a visible reason, and nothing accepted lost."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from guanxi.contact_center.form_models import FormSubmission, WebForm
from guanxi.contact_center.form_submit import token
from guanxi.customers.models import Contact
from guanxi.sales.lead_models import Lead
from guanxi.service.ticket_models import Ticket
from tests.contact_center.conftest import ORIGIN, answers


def post(client, form, data, origin=ORIGIN, **headers):
    return client.post(f"/f/{form.public_key}/", data, HTTP_ORIGIN=origin, **headers)


def post_json(client, form, data, origin=ORIGIN):
    return client.post(f"/f/{form.public_key}/", json.dumps(data), content_type="application/json",
                       HTTP_ORIGIN=origin)


def test_the_public_page_shows_the_form_in_the_visitors_language(client, ticket_form):
    zh = client.get(f"/f/{ticket_form.public_key}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert zh.status_code == 200 and "问题描述" in zh.content.decode() and "我同意接收产品资讯" in zh.content.decode()
    en = client.get(f"/f/{ticket_form.public_key}/?lang=en")
    page = en.content.decode()
    assert "Message" in page and "Send me product news" in page and 'name="website"' in page
    assert "frame-ancestors 'self' https://shop.example.cn" == en["Content-Security-Policy"]
    assert "X-Frame-Options" not in en
    assert "http://" not in page.replace(ORIGIN, "") and "https://" not in page.replace(ORIGIN, "")  # no assets
    assert client.get("/f/not-a-real-key-at-all-000/").status_code == 404


def test_a_ticket_form_creates_the_contact_and_a_web_form_ticket(client, ticket_form, support_queue, users):
    response = post(client, ticket_form, answers(
        ticket_form, Name="王芳", Email="Wang.Fang@Hospital.CN", Mobile="139 1000 2000", Subject="CT 机无法开机",
        Message="今天早上开始无法开机。", Budget="50000", Urgency="紧急", consent="yes"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200, response.content
    assert "Thank you" in response.content.decode() or "谢谢" in response.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.channel == "web_form" and ticket.subject == "CT 机无法开机"
    assert ticket.queue == support_queue[0] and ticket.question_group == support_queue[1]
    assert "今天早上开始无法开机。" in ticket.description and "紧急" in ticket.description  # the unmapped answer
    contact = Contact.objects.get()
    assert ticket.contact == contact and contact.name == "王芳" and contact.email == "wang.fang@hospital.cn"
    assert contact.phone == "+8613910002000" and contact.custom == {"budget": 50000}
    assert contact.marketing_consent and contact.consent_changed_at is not None
    submission = FormSubmission.objects.get()
    assert (submission.ticket, submission.contact, submission.consent) == (ticket, contact, True)
    assert submission.consent_text == "我同意接收产品资讯" and submission.origin == ORIGIN  # as shown, in Chinese
    assert submission.language == "zh-hans"
    assert submission.data[ticket_form.fields[0]["key"]] == "王芳"


def test_a_known_contact_is_matched_not_duplicated(client, ticket_form, zhang):
    _account, contact = zhang
    assert not contact.marketing_consent
    response = post(client, ticket_form, answers(ticket_form, Name="张伟", Email="zhang.wei@xingchen.cn",
                                                 Subject="报价", Message="请再发一次报价。", consent="yes"))
    assert response.status_code == 200, response.content
    assert Contact.objects.count() == 1
    ticket = Ticket.objects.get()
    assert ticket.contact == contact
    contact.refresh_from_db()
    assert contact.marketing_consent and contact.consent_changed_at is not None
    # Without the box ticked, the consent is not given (and a known contact's stays as it was).
    post(client, ticket_form, answers(ticket_form, Name="张伟", Mobile="13800138000", Subject="再问", Message="还有"))
    assert Contact.objects.count() == 1 and Ticket.objects.filter(contact=contact).count() == 2
    assert FormSubmission.objects.filter(consent=False, contact=contact).count() == 1


def test_a_lead_form_creates_a_lead_with_a_custom_field_assigned_as_configured(client, lead_form, users):
    response = post_json(client, lead_form, answers(lead_form, Name="刘洋", Company="华东医院", Email="liu@hd.cn",
                                                    Beds="320", Needs="想了解监护仪。", **{"Wants a demo": True}))
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.email, lead.source) == ("刘洋", "华东医院", "liu@hd.cn", "web_form")
    assert lead.custom == {"beds": 320} and lead.owner == users["rep_a"]
    assert "想了解监护仪。" in lead.description and "Wants a demo: Yes" in lead.description
    assert FormSubmission.objects.get().lead == lead and Ticket.objects.count() == 0


def test_bad_answers_are_400_naming_the_fields_and_keep_what_was_typed(client, ticket_form):
    keys = {f["label_en"]: f["key"] for f in ticket_form.fields}
    response = post_json(client, ticket_form, answers(ticket_form, Email="not-an-email", Subject="x", Budget="很多",
                                                      Urgency="明天"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {keys["Name"], keys["Email"], keys["Message"], keys["Budget"], keys["Urgency"]}
    broken = post_json(client, ticket_form, answers(ticket_form, Name="王\x00芳", Email="wf@x.cn", Subject="\ud800",
                                                    Message="m"))
    assert broken.status_code == 400 and len(broken.json()["errors"]) == 2  # PostgreSQL would refuse them
    page = post(client, ticket_form, answers(ticket_form, Name="<b>王芳</b>", Email="not-an-email", Subject="打不开",
                                             Message="屏幕黑了"))
    assert page.status_code == 400
    text = page.content.decode()
    assert "&lt;b&gt;王芳&lt;/b&gt;" in text and "屏幕黑了" in text and "<b>王芳</b>" not in text
    assert FormSubmission.objects.count() == 0 and Ticket.objects.count() == 0 and Contact.objects.count() == 0


def test_a_record_that_fails_its_own_checks_stores_nothing(client, lead_form):
    """The lead service wants a phone, an email or a company: the 400 names the form's fields it can, and no
    submission row is left without its record."""
    response = post_json(client, lead_form, answers(lead_form, Name="无名"))
    assert response.status_code == 400
    assert "__all__" in response.json()["errors"]
    assert FormSubmission.objects.count() == 0 and Lead.objects.count() == 0


def test_the_honeypot_and_a_too_quick_submission_are_accepted_silently_as_spam(client, ticket_form, settings):
    data = answers(ticket_form, Name="Bot", Email="bot@spam.example", Subject="Buy", Message="cheap", website="x")
    response = post(client, ticket_form, data)
    assert response.status_code == 200 and 'id="gx-done"' in response.content.decode()
    settings.CC_FORM_MIN_SECONDS = 3600  # nobody fills a form in within an hour of being shown it, say
    assert post_json(client, ticket_form, {**data, "website": ""}).status_code == 200
    assert Ticket.objects.count() == 0 and FormSubmission.objects.count() == 0 and Contact.objects.count() == 0
    assert WebForm.objects.get().spam_count == 2


def test_a_forged_or_missing_token_asks_to_submit_again(client, ticket_form, lead_form):
    data = answers(ticket_form, Name="王芳", Email="wf@x.cn", Subject="s", Message="m")
    for bad in ("", "forged", token(lead_form, 0)):
        response = post_json(client, ticket_form, {**data, "_token": bad})
        assert response.status_code == 400 and "_token" in response.json()["errors"]
    page = post(client, ticket_form, {**data, "_token": "forged"})
    assert page.status_code == 400 and "wf@x.cn" in page.content.decode()  # nothing typed is lost
    assert FormSubmission.objects.count() == 0


def test_a_flood_is_throttled_with_a_reason_and_the_accepted_ones_stay(client, lead_form, settings):
    settings.CC_FORM_PER_IP_PER_MINUTE = 3
    statuses = [post_json(client, lead_form, answers(lead_form, Name=f"客户{i}", Email=f"c{i}@x.cn")).status_code
                for i in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]
    refused = post(client, lead_form, answers(lead_form, Name="客户9", Email="c9@x.cn"))
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "c9@x.cn" in refused.content.decode()  # the page keeps what was typed
    assert Lead.objects.count() == 3 and FormSubmission.objects.count() == 3
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["c0@x.cn", "c1@x.cn", "c2@x.cn"]
    assert WebForm.objects.get().throttled_count == 4
    body = post_json(client, lead_form, answers(lead_form, Name="x", Email="x@x.cn")).json()
    assert "Too many submissions" in body["detail"]
    # Everyone together is limited per form too.
    cache.clear()
    settings.CC_FORM_PER_IP_PER_MINUTE, settings.CC_FORM_PER_MINUTE = 100, 1
    assert post_json(client, lead_form, answers(lead_form, Name="y", Email="y@x.cn")).status_code == 200
    assert post_json(client, lead_form, answers(lead_form, Name="z", Email="z@x.cn"),
                     origin="").status_code == 429


def test_a_foreign_origin_is_refused(client, ticket_form):
    data = answers(ticket_form, Name="王芳", Email="wf@x.cn", Subject="s", Message="m")
    response = post_json(client, ticket_form, data, origin="https://evil.example")
    assert response.status_code == 403 and response.json()["errors"]["origin"]
    assert "Access-Control-Allow-Origin" not in response
    referer = client.post(f"/f/{ticket_form.public_key}/", data, HTTP_REFERER="https://evil.example/page")
    assert referer.status_code == 403
    own = client.post(f"/f/{ticket_form.public_key}/", data, HTTP_ORIGIN="http://testserver")  # the framed page
    assert own.status_code == 200 and Ticket.objects.count() == 1


def test_size_limits_and_an_inactive_form(client, ticket_form):
    big = answers(ticket_form, Name="王芳", Email="wf@x.cn", Subject="s", Message="长" * 70000)
    response = post_json(client, ticket_form, big)
    assert response.status_code == 413 and response.json()["errors"]["body"]
    too_long = post_json(client, ticket_form, answers(ticket_form, Name="王芳" * 300, Email="wf@x.cn", Subject="s",
                                                      Message="m"))
    assert too_long.status_code == 400
    assert post_json(client, ticket_form, [1, 2]).status_code == 400
    assert client.post(f"/f/{ticket_form.public_key}/", b"{", content_type="application/json",
                       HTTP_ORIGIN=ORIGIN).status_code == 400
    WebForm.objects.filter(pk=ticket_form.pk).update(active=False)
    assert post_json(client, ticket_form, answers(ticket_form, Name="a")).status_code == 404
    assert FormSubmission.objects.count() == 0


def test_the_token_endpoint_serves_snippets_and_json_clients(client, ticket_form, settings):
    settings.CC_FORM_MIN_SECONDS = 0
    got = client.get(f"/f/{ticket_form.public_key}/token?lang=en")
    assert got.status_code == 200 and got["Access-Control-Allow-Origin"] == "*"
    body = got.json()
    assert [f["label"] for f in body["fields"]][:2] == ["Name", "Email"]
    keys = {f["label"]: f["key"] for f in body["fields"]}
    sent = post_json(client, ticket_form, {"_token": body["token"], keys["Name"]: "王芳", keys["Email"]: "wf@x.cn",
                                           keys["Subject"]: "你好", keys["Message"]: "问题"})
    assert sent.status_code == 200 and sent.json()["reference"] == Ticket.objects.get().number


@pytest.mark.parametrize("method", ["put", "delete"])
def test_other_methods_are_refused(client, ticket_form, method):
    assert getattr(client, method)(f"/f/{ticket_form.public_key}/").status_code == 405
