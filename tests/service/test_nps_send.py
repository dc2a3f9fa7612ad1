"""Sending an NPS survey: a real SMTP server receives one e-mail per consenting contact with a deliverable address,
in the survey's language, with a signed link; the others are skipped and counted with the reason; nobody is
surveyed twice within the quiet period; with the mail server down the e-mails wait and the sweep sends each once
when it is up; only service managers and administrators send, and bad input is refused naming the field."""

import datetime as dt
from email.header import decode_header, make_header

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import JobProgress, JobStatus
from guanxi.customers import services as customers
from guanxi.customers.models import Contact, ContactMethod
from guanxi.service import jobs, nps_services, survey_mail
from guanxi.service.nps_models import NpsInvitation, NpsSurvey
from tests.contact_center.mailservers import free_port
from tests.sales.quotes.test_quote_views import smtp_server, use_smtp

from .nps_fixtures import link_path, send


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _by_contact(survey):
    return {i.contact.name: i for i in NpsInvitation.objects.filter(survey=survey).select_related("contact")}


def test_each_consenting_contact_gets_a_link_and_the_others_are_skipped_with_the_reason(
        client, users, nps_book, smtp, tasks_now, english, django_capture_on_commit_callbacks):
    survey = send(users["admin"], django_capture_on_commit_callbacks, language="en")
    assert sorted(m["To"] for m in smtp.messages) == ["li.na@haifeng.cn", "zhang.wei@xingchen.cn"]
    message = next(m for m in smtp.messages if m["To"] == "zhang.wei@xingchen.cn")
    body = message.get_payload(decode=True).decode()
    assert _subject(message) == "One question: would you recommend us?"
    assert "Hello 张伟" in body and "How likely are you to recommend us to a friend or colleague?" in body
    rows = _by_contact(survey)
    assert {name: i.skip_reason for name, i in rows.items()} == {
        "张伟": "", "李娜": "", "王芳": "undeliverable", "刘洋": "no_consent", "陈静": "no_email"}
    assert rows["张伟"].sent_at is not None and rows["张伟"].attempts == 1 and rows["刘洋"].sent_at is None
    job = JobProgress.objects.get(pk=survey.job_id)
    assert job.status == JobStatus.DONE and job.done == job.total == 2 and "2 of 2" in job.message
    figures = nps_services.results(users["admin"], survey)
    assert (figures.invited, figures.sent, figures.pending, figures.failed) == (2, 2, 0, 0)
    assert figures.skipped == {"no_consent": 1, "no_email": 1, "undeliverable": 1, "recent": 0}
    page = client.get(link_path(body))  # the link works without logging in
    assert page.status_code == 200 and "How likely are you to recommend us" in page.content.decode()


def test_the_e_mail_goes_in_the_sites_language_unless_another_is_chosen(users, nps_book, smtp, tasks_now,
                                                                       django_capture_on_commit_callbacks):
    survey = send(users["admin"], django_capture_on_commit_callbacks, classification="B")
    assert survey.language == "zh-hans"  # the site's (the lead translates the new strings at merge)
    [message] = smtp.messages
    assert message["To"] == "li.na@haifeng.cn" and "李娜" in message.get_payload(decode=True).decode()


def test_filters_by_the_accounts_classification_and_owner(users, nps_book, tasks_now,
                                                          django_capture_on_commit_callbacks):
    only_b = send(users["admin"], django_capture_on_commit_callbacks, classification="B")
    assert list(_by_contact(only_b)) == ["李娜"]
    of_rep_a = send(users["admin"], django_capture_on_commit_callbacks, account_owner_id=users["rep_a"].pk)
    assert sorted(_by_contact(of_rep_a)) == sorted(["张伟", "王芳", "刘洋", "陈静"])
    with pytest.raises(ValidationError) as exc:
        send(users["admin"], django_capture_on_commit_callbacks, classification="C")
    assert "recipients" in exc.value.message_dict  # nobody matches: nothing sent, no empty survey
    assert NpsSurvey.objects.count() == 2


def test_nobody_is_surveyed_twice_within_the_quiet_period(settings, users, nps_book, smtp, tasks_now,
                                                          django_capture_on_commit_callbacks):
    first = send(users["admin"], django_capture_on_commit_callbacks)
    second = send(users["admin"], django_capture_on_commit_callbacks)
    assert {n: i.skip_reason for n, i in _by_contact(second).items() if n in ("张伟", "李娜")} == {
        "张伟": "recent", "李娜": "recent"}
    assert len(smtp.messages) == 2  # the first survey's two e-mails only
    # 91 days later they may be asked again (the skipped ones of the second survey never counted as surveyed) …
    NpsInvitation.objects.filter(survey=first).update(created_at=timezone.now() - dt.timedelta(days=91))
    third = send(users["admin"], django_capture_on_commit_callbacks)
    assert _by_contact(third)["张伟"].skip_reason == "" and len(smtp.messages) == 4
    # … and the period is a setting: 30 days, and an invitation 40 days old no longer holds anyone back.
    settings.NPS_QUIET_DAYS = 30
    NpsInvitation.objects.filter(survey=third).update(created_at=timezone.now() - dt.timedelta(days=40))
    assert _by_contact(send(users["admin"], django_capture_on_commit_callbacks))["李娜"].skip_reason == ""


def test_an_e_mail_given_up_does_not_count_as_surveyed(users, nps_book, tasks_now, settings,
                                                       django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    first = send(users["admin"], django_capture_on_commit_callbacks, classification="B")
    NpsInvitation.objects.filter(survey=first).update(sent_at=None, attempts=survey_mail.MAX_ATTEMPTS)
    again = send(users["admin"], django_capture_on_commit_callbacks, classification="B")
    assert _by_contact(again)["李娜"].skip_reason == ""


def test_with_the_mail_server_down_the_e_mails_wait_and_the_sweep_sends_each_once(
        users, nps_book, settings, tasks_now, django_capture_on_commit_callbacks, english):
    port = free_port()  # nothing listens here yet
    use_smtp(settings, port)
    settings.EMAIL_TIMEOUT = 5
    survey = send(users["admin"], django_capture_on_commit_callbacks)
    waiting = NpsInvitation.objects.filter(survey=survey, skip_reason="")
    assert [(i.sent_at, i.attempts) for i in waiting] == [(None, 1), (None, 1)]
    assert all("Connection" in i.error for i in waiting)
    assert nps_services.results(users["admin"], survey).pending == 2
    now = timezone.now()
    assert jobs.retry_nps_mails(now) == 0  # tried just now: left alone

    # Meanwhile 李娜 withdraws her consent: she is skipped with that reason, not mailed.
    li = nps_book["li"]
    customers.update_contact(users["rep_b"], li, {"marketing_consent": False}, li.version)
    with smtp_server(port) as inbox:
        assert jobs.retry_nps_mails(now + dt.timedelta(minutes=3)) == 1
        assert jobs.retry_nps_mails(now + dt.timedelta(minutes=10)) == 0
        again = JobProgress.objects.create(kind=nps_services.JOB_KIND, user=users["admin"])
        assert "0 of 0" in nps_services.send_survey_task.call(job_id=str(again.pk), survey_id=survey.pk)  # a re-run
    assert [m["To"] for m in inbox.messages] == ["zhang.wei@xingchen.cn"]
    rows = _by_contact(survey)
    assert rows["张伟"].sent_at is not None and rows["张伟"].attempts == 2 and rows["张伟"].error == ""
    assert rows["李娜"].skip_reason == "no_consent" and rows["李娜"].sent_at is None
    figures = nps_services.results(users["admin"], survey)
    assert (figures.sent, figures.pending, figures.skipped["no_consent"]) == (1, 0, 2)


def test_what_changed_before_the_e_mail_left_is_respected(users, nps_book, smtp, tasks_now,
                                                         django_capture_on_commit_callbacks):
    """Between the survey and its e-mails (the job runs after commit), one address bounced and another changed."""
    with django_capture_on_commit_callbacks() as callbacks:
        survey = nps_services.send_survey(users["admin"], {"name": "调查"})
    ContactMethod.objects.filter(contact=nps_book["li"]).update(invalid_since=timezone.now())
    zhang = nps_book["zhang"]
    customers.update_contact(users["rep_a"], zhang, {"emails": ["zw@xingchen.cn"]}, zhang.version)
    for callback in callbacks:
        callback()
    assert [m["To"] for m in smtp.messages] == ["zw@xingchen.cn"]
    rows = _by_contact(survey)
    assert (rows["张伟"].email, rows["张伟"].sent_at is not None) == ("zw@xingchen.cn", True)
    assert (rows["李娜"].skip_reason, rows["李娜"].sent_at, rows["李娜"].attempts) == ("undeliverable", None,
                                                                                    survey_mail.MAX_ATTEMPTS)
    assert nps_services.results(users["admin"], survey).skipped["undeliverable"] == 2


def test_only_service_managers_and_administrators_send(users, desk, nps_book):
    for who in (users["rep_a"], users["manager_a"], users["viewer"]):
        with pytest.raises(PermissionDenied):
            nps_services.send_survey(who, {"name": "调查"})
    # A service manager sends to the contacts they may see: here, those their team owns.
    lead = desk["lead"]
    with pytest.raises(ValidationError) as exc:
        nps_services.send_survey(lead, {"name": "调查"})
    assert "recipients" in exc.value.message_dict
    Contact.objects.filter(pk=nps_book["zhang"].pk).update(team=lead.team)
    survey = nps_services.send_survey(lead, {"name": "调查"})
    assert list(_by_contact(survey)) == ["张伟"]


@pytest.mark.parametrize(("data", "fields"), [
    ({"name": ""}, {"name"}),
    ({"name": "x" * 201}, {"name"}),
    ({"name": "调查", "classification": "Z"}, {"classification"}),
    ({"name": "调查", "account_owner_id": "abc"}, {"account_owner_id"}),
    ({"name": "调查", "account_owner_id": 10**20}, {"account_owner_id"}),
    ({"name": "调查", "language": "fr"}, {"language"}),
    ({"name": None, "classification": ["A"], "language": 3}, {"name", "classification", "language"}),
])
def test_bad_input_names_the_fields_and_sends_nothing(users, nps_book, data, fields):
    with pytest.raises(ValidationError) as exc:
        nps_services.send_survey(users["admin"], data)
    assert set(exc.value.message_dict) == fields
    assert not NpsSurvey.objects.exists() and not NpsInvitation.objects.exists()


def test_the_page_sends_a_survey_and_shows_the_fields_in_error(client, users, nps_book, english, tasks_now, settings,
                                                               django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(users["admin"])
    page = client.get(reverse("service:nps_list")).content.decode()
    assert 'id="nps-form"' in page and "How likely are you to recommend us" in page
    bad = client.post(reverse("service:nps_create"), {"name": "", "classification": "Q"})
    html = bad.content.decode()
    assert bad.status_code == 400 and 'data-field="name"' in html and 'data-field="classification"' in html
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("service:nps_create"), {"name": "春季客户调查", "classification": "A",
                                                           "language": "en"})
    survey = NpsSurvey.objects.get()
    assert done.status_code == 302 and done.url == reverse("service:nps_detail", args=[survey.pk])
    detail = client.get(done.url).content.decode()
    assert 'id="nps-sent">1<' in detail and 'data-reason="undeliverable"' in detail
    client.force_login(users["rep_a"])
    assert 'id="nps-form"' not in client.get(reverse("service:nps_list")).content.decode()
    assert client.post(reverse("service:nps_create"), {"name": "x"}).status_code == 403
