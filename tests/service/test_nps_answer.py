"""Answering an NPS survey: the signed link opens a page without logging in; the answer (0–10 and the main reason)
is taken once; an altered or expired link is a 400 page saying so, never a 500; bad input is a 400 naming the field;
a detractor's answer gives the account's owner a call-back task; the answer lands on the contact's and the
account's 360° timelines, and in the contact's personal-data export."""

import datetime as dt

import pytest
from django.urls import reverse

from guanxi.activities.models import Task, TaskStatus
from guanxi.core.models import Notification
from guanxi.customers.privacy import erase_person, export_person
from guanxi.customers.timeline import timeline_for
from guanxi.service import csat_services, nps_services, survey_mail
from guanxi.service.nps_models import NpsInvitation, NpsResponse, NpsSurvey

AT = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def invitation(users, nps_book):
    survey = NpsSurvey.objects.create(name="春季客户调查", language="zh-hans", created_by=users["admin"])
    zhang = nps_book["zhang"]
    return NpsInvitation.objects.create(survey=survey, contact=zhang, account=zhang.primary_account,
                                        email=zhang.email, sent_at=AT, attempts=1)


def _url(invitation) -> str:
    return reverse("service:nps_answer", args=[nps_services.survey_token(invitation)])


def test_the_answer_is_taken_once(client, invitation, english):
    page = client.get(_url(invitation))
    html = page.content.decode()
    assert page.status_code == 200 and "How likely are you to recommend us to a friend or colleague?" in html
    assert "What is the main reason for your score?" in html and html.count('name="score"') == 11
    done = client.post(_url(invitation), {"score": "9", "reason": "服务很及时 <script>alert(1)</script>"})
    assert done.status_code == 200 and 'id="nps-thanks"' in done.content.decode()
    answer = NpsResponse.objects.get()
    assert (answer.score, answer.category, answer.contact, answer.account, answer.survey) == (
        9, "promoter", invitation.contact, invitation.account, invitation.survey)
    again = client.post(_url(invitation), {"score": "0", "reason": "改主意了"})
    assert again.status_code == 400 and "already been answered" in again.content.decode()
    assert NpsResponse.objects.get().score == 9
    assert 'id="nps-answered"' in client.get(_url(invitation)).content.decode()


@pytest.mark.parametrize(("data", "field"), [
    ({"score": "11"}, "score"), ({"score": "abc"}, "score"), ({"score": "-1"}, "score"), ({"score": "7.5"}, "score"),
    ({}, "score"), ({"score": "5", "reason": "长" * 2001}, "reason"),
])
def test_bad_input_is_a_400_naming_the_field(client, invitation, english, data, field):
    response = client.post(_url(invitation), data)
    assert response.status_code == 400 and f'data-field="{field}"' in response.content.decode()
    assert not NpsResponse.objects.exists()


def test_an_altered_foreign_or_expired_link_is_a_400_page(client, invitation, nps_book, settings, english):
    token = nps_services.survey_token(invitation)
    for bad in (token + "x", "x" + token[1:], "abc", "%00", "a" * 500):
        response = client.get(reverse("service:nps_answer", args=[bad]))
        assert response.status_code == 400 and "not valid" in response.content.decode()
    ticket_link = survey_mail.sign(invitation.pk, csat_services.SALT)  # a CSAT link is no NPS link
    assert client.post(reverse("service:nps_answer", args=[ticket_link]), {"score": "9"}).status_code == 400
    skipped = NpsInvitation.objects.create(survey=invitation.survey, contact=nps_book["liu"], skip_reason="no_consent")
    assert client.get(reverse("service:nps_answer", args=[nps_services.survey_token(skipped)])).status_code == 400
    settings.NPS_LINK_DAYS = -1
    response = client.post(_url(invitation), {"score": "9"})
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert not NpsResponse.objects.exists()


def test_a_detractor_gives_the_account_owner_a_call_back_task(invitation, users, english):
    answer = nps_services.answer(invitation, 3, "交货总是推迟", now=AT)
    task = Task.objects.get()
    assert answer.follow_up == task and answer.category == "detractor"
    assert (task.owner, task.account, task.contact, task.status, task.priority) == (
        users["rep_a"], invitation.account, invitation.contact, TaskStatus.OPEN, "high")
    assert task.title == "Call back the detractor 张伟 (NPS 3/10)" and "交货总是推迟" in task.description
    assert task.due_at == AT + dt.timedelta(days=2)
    note = Notification.objects.get(user=users["rep_a"])
    assert "张伟" in note.text and note.link == reverse("service:nps_detail", args=[invitation.survey_id])
    # Passives and promoters give no task.
    for i, score in enumerate((7, 10)):
        other = NpsInvitation.objects.create(survey=NpsSurvey.objects.create(name=f"s{i}", language="en"),
                                             contact=invitation.contact, account=invitation.account)
        nps_services.answer(other, score)
    assert Task.objects.count() == 1


def test_without_an_account_the_contacts_owner_calls_back_and_without_an_owner_nobody(invitation, users, nps_book):
    from guanxi.customers import services as customers

    lonely = customers.create_contact(users["rep_a2"], {"name": "赵磊", "emails": ["zhao.lei@example.cn"],
                                                        "marketing_consent": True})
    inv = NpsInvitation.objects.create(survey=invitation.survey, contact=lonely)
    assert nps_services.answer(inv, 0).follow_up.owner == users["rep_a2"]
    nobody = customers.create_contact(users["admin"], {"name": "无主", "owner_id": None})
    nobody.owner = None
    nobody.save()
    inv = NpsInvitation.objects.create(survey=invitation.survey, contact=nobody)
    answer = nps_services.answer(inv, 2)
    assert answer.follow_up is None and NpsResponse.objects.filter(pk=answer.pk).exists()  # the answer stands


def test_the_answer_is_on_the_contacts_and_accounts_timeline_for_who_may_see_it(invitation, users, nps_book):
    nps_services.answer(invitation, 6, "价格偏高", now=AT)
    for subject in (invitation.contact, invitation.account):
        items = [i for i in timeline_for(subject, users["rep_a"]) if i.kind == "nps"]
        assert len(items) == 1 and "6/10" in items[0].title and "春季客户调查" in items[0].title
        assert items[0].body == "价格偏高" and items[0].at == AT
    assert not [i for i in timeline_for(invitation.contact, users["rep_b"]) if i.kind == "nps"]
    assert not [i for i in timeline_for(nps_book["li"], users["admin"]) if i.kind == "nps"]


def test_the_contact_page_shows_the_answer(client, invitation, users):
    nps_services.answer(invitation, 10, "很专业", now=AT)
    client.force_login(users["rep_a"])
    html = client.get(reverse("customers:contact_detail", args=[invitation.contact_id])).content.decode()
    assert 'data-kind="nps"' in html and "很专业" in html


def test_personal_data_requests_cover_the_answers(invitation, users):
    nps_services.answer(invitation, 8, "还不错", now=AT)
    data = export_person(users["admin"], invitation.contact)
    assert data["nps_answers"] == [{"survey": "春季客户调查", "score": 8, "reason": "还不错", "at": AT.isoformat()}]
    erase_person(users["admin"], invitation.contact, "客户要求删除")
    answer = NpsResponse.objects.get()
    assert answer.score == 8 and "还不错" not in answer.reason
    assert NpsInvitation.objects.get().email == ""
