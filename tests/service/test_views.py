"""The service pages: the list (filters, a constant number of queries), the ticket with its conversation,
notes set apart, SLA badges and the customer panel; replies, status buttons and the new-ticket form;
another's ticket is a 404; an agent's own queue with the availability switch."""

import pytest
from django.utils import timezone

from guanxi.customers import services as customer_services
from guanxi.service import services
from guanxi.service.models import AgentProfile, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(users):
    return customer_services.create_account(users["rep_a"], {"name": "上海普通贸易公司", "classification": "B"})


def _tickets(user, account, desk, n, **extra):
    return [services.create_ticket(user, {"subject": f"问题 {i}", "account_id": account.pk,
                                          "question_group_id": desk["billing"].pk, **extra}) for i in range(n)]


def test_list_filters_and_queries_do_not_grow(client, users, desk, account, django_assert_max_num_queries):
    _tickets(users["rep_a"], account, desk, 2)
    client.force_login(desk["lead"])
    with django_assert_max_num_queries(30) as few:
        assert client.get("/service/tickets/").status_code == 200
    _tickets(users["rep_a"], account, desk, 4, priority="urgent")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/service/tickets/").content.decode()
    assert html.count("data-id=") == 6
    html = client.get("/service/tickets/", {"priority": "urgent"}).content.decode()
    assert html.count("data-id=") == 4
    client.force_login(desk["wang"])
    mine = client.get("/service/tickets/", {"mine": "1"}).content.decode()
    assert mine.count("data-id=") == Ticket.objects.filter(owner=desk["wang"]).count() == 2
    bad = client.get("/service/tickets/", {"status": "nope", "queue": "x"}, headers={"HX-Target": "results"})
    assert bad.status_code == 200 and 'id="filter-errors"' in bad.content.decode()


def test_detail_reply_note_and_status_buttons(client, users, desk, account):
    ticket = _tickets(users["rep_a"], account, desk, 1)[0]
    client.force_login(desk["wang"])
    url = f"/service/tickets/{ticket.pk}/"
    html = client.get(url).content.decode()
    assert 'id="customer-panel"' in html and 'data-sla="ok"' in html and 'data-status="waiting"' in html
    assert Ticket.objects.get(pk=ticket.pk).picked_up_at is not None  # the assignee opened it
    client.post(f"{url}messages/", {"kind": "note", "body": "<b>内部</b>"})
    client.post(f"{url}messages/", {"kind": "reply", "body": "您好"})
    html = client.get(url).content.decode()
    assert html.count('data-kind="note"') == 1 and html.count('data-kind="reply"') == 1
    assert "&lt;b&gt;内部&lt;/b&gt;" in html
    ticket.refresh_from_db()
    r = client.post(f"{url}status/", {"status": "waiting", "version": ticket.version})
    assert r.status_code == 302 and Ticket.objects.get(pk=ticket.pk).status == "waiting"
    assert 'data-sla="paused"' in client.get(url).content.decode()
    client.post(f"{url}status/", {"status": "open", "version": 1})  # stale: refused, nothing changes
    assert Ticket.objects.get(pk=ticket.pk).status == "waiting"


def test_another_reps_ticket_is_a_404(client, users, desk, account):
    ticket = _tickets(users["rep_a"], account, desk, 1)[0]
    client.force_login(users["rep_b"])
    url = f"/service/tickets/{ticket.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}messages/", {"kind": "reply", "body": "x"}).status_code == 404
    assert "问题 0" not in client.get("/service/tickets/").content.decode()


def test_new_ticket_form(client, users, desk, account):
    client.force_login(users["rep_a"])
    r = client.post("/service/tickets/new/", {"subject": "", "priority": "normal", "account_id": "99999"})
    assert r.status_code == 200 and 'data-field="subject"' in r.content.decode()
    assert 'data-field="account_id"' in r.content.decode() and not Ticket.objects.exists()
    r = client.post("/service/tickets/new/", {"subject": "打印机卡纸", "priority": "high", "account_id": account.pk,
                                              "question_group_id": desk["billing"].pk})
    ticket = Ticket.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/service/tickets/{ticket.pk}/"
    assert ticket.owner == desk["wang"] and ticket.requester == users["rep_a"]


def test_my_queue_and_availability(client, users, desk, account):
    _tickets(users["rep_a"], account, desk, 1)
    client.force_login(desk["wang"])
    assert client.get("/service/my-queue/").content.decode().count("data-id=") == 1
    client.post("/service/availability/", {"availability": "away"})
    assert AgentProfile.objects.get(user=desk["wang"]).availability == "away"
    client.post("/service/availability/", {"availability": "asleep"})
    assert AgentProfile.objects.get(user=desk["wang"]).availability == "away"


def test_list_rows_show_labels_links_and_due_times(client, users, desk, account, english):
    ticket = _tickets(users["rep_a"], account, desk, 1, priority="urgent")[0]
    client.force_login(desk["lead"])
    html = client.get("/service/tickets/").content.decode()
    row = html[html.index(f'data-id="{ticket.pk}"'):]
    row = row[:row.index("</tr>")]
    assert f'href="/service/tickets/{ticket.pk}/"' in row and ticket.number in row
    assert '<span class="badge text-bg-light border">New</span>' in row
    assert '<span class="badge text-bg-danger">Urgent</span>' in row
    due = timezone.localtime(ticket.resolution_due_at).strftime("%Y-%m-%d %H:%M")
    assert due in row and account.name in row and str(ticket.owner) in row
