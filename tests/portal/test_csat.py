"""Satisfaction surveys: resolving a ticket e-mails its contact a signed link (real SMTP server); the answer,
1–5 and a comment, is taken once; it shows on the ticket page; the report and the API give averages per agent
and per queue over visible tickets only, in a fixed number of queries."""

import re
from email.header import decode_header, make_header

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.services import issue_token
from guanxi.service import csat_services
from guanxi.service import services as desk_services
from guanxi.service.csat_models import SatisfactionResponse
from guanxi.service.ticket_models import TicketStatus


def _resolve(ticket, capture):
    ticket.refresh_from_db()
    with capture(execute=True):
        desk_services.change_status(ticket.owner, ticket, TicketStatus.RESOLVED, ticket.version)
    ticket.refresh_from_db()


def _survey_path(body: str) -> str:
    return "/" + re.search(r"https?://\S+", body).group(0).split("/", 3)[3]


def test_resolving_mails_a_survey_link_answered_once_and_shown_on_the_ticket(
        client, staff_ticket, smtp, users, django_capture_on_commit_callbacks):
    _resolve(staff_ticket, django_capture_on_commit_callbacks)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    subject = str(make_header(decode_header(message["Subject"])))
    assert message["To"] == "zhang.wei@xingchen.cn" and staff_ticket.number in subject
    path = _survey_path(message.get_payload(decode=True).decode())
    assert client.get(path).status_code == 200  # no log-in needed
    response = client.post(path, {"score": "4", "comment": "回复很快，<b>谢谢</b>"})
    assert response.status_code == 200 and 'id="survey-thanks"' in response.content.decode()
    answer = SatisfactionResponse.objects.get()
    assert (answer.ticket, answer.score, answer.agent, answer.queue) == (staff_ticket, 4, staff_ticket.owner,
                                                                         staff_ticket.queue)
    second = client.post(path, {"score": "1", "comment": "改主意了"})
    assert second.status_code == 400 and "already been answered" in second.content.decode()
    assert SatisfactionResponse.objects.get().score == 4
    staff = client.__class__()
    staff.force_login(users["admin"])
    page = staff.get(reverse("service:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert 'id="csat-score">4/5' in page and "&lt;b&gt;谢谢&lt;/b&gt;" in page  # escaped


def test_a_bad_or_expired_link_and_a_bad_score_are_refused(client, staff_ticket, settings,
                                                           django_capture_on_commit_callbacks):
    _resolve(staff_ticket, django_capture_on_commit_callbacks)
    token = csat_services.survey_token(staff_ticket)
    assert client.get(reverse("portal:survey", args=[token + "x"])).status_code == 400
    response = client.post(reverse("portal:survey", args=[token]), {"score": "9"})
    assert response.status_code == 400 and 'data-field="score"' in response.content.decode()
    settings.CSAT_LINK_DAYS = -1
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("portal:survey", args=[token]), {"score": "5"})
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert not SatisfactionResponse.objects.exists()


def test_no_survey_before_resolution_and_none_sent_without_an_address(staff_ticket, orgs, users,
                                                                      django_capture_on_commit_callbacks):
    assert not mail.outbox
    assert client_refuses_open_ticket(staff_ticket)
    staff_ticket.contact = None
    staff_ticket.save()
    _resolve(staff_ticket, django_capture_on_commit_callbacks)
    assert not mail.outbox


def client_refuses_open_ticket(ticket) -> bool:
    try:
        csat_services.answer_survey(ticket, 5)
    except Exception as exc:  # noqa: BLE001 - asserting the refusal below
        return "score" in exc.message_dict
    return False


def _answered(desk, users, orgs, scores):
    tickets = []
    for i, score in enumerate(scores):
        ticket = desk_services.create_ticket(users["admin"], {"subject": f"问题{i}", "account_id": orgs["account_a"].pk,
                                                               "question_group_id": desk["billing"].pk})
        desk_services.assign(users["admin"], ticket, (desk["wang"] if i % 2 else desk["zhao"]).pk, ticket.version)
        ticket.refresh_from_db()
        desk_services.change_status(users["admin"], ticket, TicketStatus.RESOLVED, ticket.version)
        ticket.refresh_from_db()
        csat_services.answer_survey(ticket, score)
        tickets.append(ticket)
    return tickets


def test_the_report_averages_per_agent_and_queue_over_visible_tickets_in_fixed_queries(
        client, desk, users, orgs, django_assert_max_num_queries):
    _answered(desk, users, orgs, [5, 3, 4, 1])  # zhao: 5, 4; wang: 3, 1
    client.force_login(desk["lead"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("service:csat_report"), {"period": "30d"}).content.decode()
    assert 'id="csat-average">3.25' in page and 'id="csat-responses">4' in page
    report = csat_services.averages(desk["lead"], "all")
    assert {r.name: (r.average, r.responses) for r in report["agents"]} == {"zhao": (4.5, 2), "wang": (2.0, 2)}
    assert [(r.name, r.responses) for r in report["queues"]] == [("VIP", 4)]  # a key (A) customer: senior queue
    # A rep of another team sees none of these tickets, so no rows.
    assert csat_services.averages(users["rep_b"], "all")["responses"] == 0
    client.force_login(users["rep_b"])
    assert 'id="csat-responses">0' in client.get(reverse("service:csat_report")).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        csat_services.averages(desk["lead"], "all")
    before = len(ctx.captured_queries)
    _answered(desk, users, orgs, [2, 2, 2])
    with CaptureQueriesContext(connection) as ctx:
        csat_services.averages(desk["lead"], "all")
    assert len(ctx.captured_queries) == before <= 6  # the visibility look-ups and three aggregates


def test_the_api_reads_a_tickets_answer_and_the_report(client, desk, users, orgs):
    ticket = _answered(desk, users, orgs, [5])[0]
    headers = {"Authorization": f"Bearer {issue_token(desk['lead'], 'csat')}"}
    body = client.get(f"/api/v1/tickets/{ticket.pk}/satisfaction", headers=headers).json()
    assert body["answered"] and body["score"] == 5 and body["agent_id"] == ticket.owner_id
    report = client.get("/api/v1/service/csat?period=7d", headers=headers).json()
    assert report["responses"] == 1 and report["agents"][0]["average"] == 5.0
    assert client.get("/api/v1/service/csat?period=forever", headers=headers).status_code == 400
    outsider = {"Authorization": f"Bearer {issue_token(users['rep_b'], 'csat')}"}
    assert client.get(f"/api/v1/tickets/{ticket.pk}/satisfaction", headers=outsider).status_code == 404
