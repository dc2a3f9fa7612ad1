"""The survey e-mail is a retried job: with the mail server down the resolution stands and the failure is kept;
the sweep sends it once the server is up (a real aiosmtpd on the same port), and never a second time — not on a
second sweep, not when the ticket is reopened and resolved again."""

import datetime as dt

from django.utils import timezone

from guanxi.service import jobs
from guanxi.service import services as desk_services
from guanxi.service.csat_models import SurveyMail
from guanxi.service.ticket_models import TicketStatus
from tests.contact_center.mailservers import free_port
from tests.sales.quotes.test_quote_views import smtp_server, use_smtp


def _set_status(ticket, status, capture):
    ticket.refresh_from_db()
    with capture(execute=True):
        desk_services.change_status(ticket.owner or ticket.requester, ticket, status, ticket.version)


def test_a_survey_refused_while_the_server_is_down_is_sent_once_when_it_is_up(
        staff_ticket, settings, django_capture_on_commit_callbacks):
    port = free_port()  # nothing listens here yet
    use_smtp(settings, port)
    settings.EMAIL_TIMEOUT = 5

    _set_status(staff_ticket, TicketStatus.RESOLVED, django_capture_on_commit_callbacks)
    staff_ticket.refresh_from_db()
    assert staff_ticket.status == TicketStatus.RESOLVED  # the resolution stands
    row = SurveyMail.objects.get(ticket=staff_ticket)
    assert row.sent_at is None and row.attempts == 1 and "Connection" in row.error

    now = timezone.now()
    assert jobs.retry_survey_mails(now) == 0  # tried just now: left alone
    assert SurveyMail.objects.get().attempts == 1

    with smtp_server(port) as inbox:
        assert jobs.retry_survey_mails(now + dt.timedelta(minutes=3)) == 1
        assert jobs.retry_survey_mails(now + dt.timedelta(minutes=10)) == 0
        _set_status(staff_ticket, TicketStatus.OPEN, django_capture_on_commit_callbacks)  # reopened …
        _set_status(staff_ticket, TicketStatus.RESOLVED, django_capture_on_commit_callbacks)  # … resolved again
        assert jobs.retry_survey_mails(now + dt.timedelta(minutes=30)) == 0
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["To"] == "zhang.wei@xingchen.cn"
    row = SurveyMail.objects.get()
    assert row.sent_at is not None and row.attempts == 2 and row.error == ""


def test_a_survey_is_given_up_after_the_last_attempt(staff_ticket, settings, django_capture_on_commit_callbacks):
    use_smtp(settings, free_port())
    _set_status(staff_ticket, TicketStatus.RESOLVED, django_capture_on_commit_callbacks)
    now = timezone.now()
    for i in range(1, 12):
        jobs.retry_survey_mails(now + dt.timedelta(minutes=3 * i))
    row = SurveyMail.objects.get()
    assert row.sent_at is None and row.attempts == 8
