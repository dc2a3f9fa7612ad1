"""Missed calls in the one inbox: an inbound call nobody answered waits for a call back (click-to-call from its
pane) until an outbound call to the number follows; the agent can turn it into a phone ticket."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.contact_center import call_events as ce
from guanxi.contact_center import inbox
from guanxi.contact_center.call_models import Call
from guanxi.contact_center.call_services import record_event
from guanxi.service.ticket_models import Ticket

pytestmark = pytest.mark.django_db


def play(pbx, call_id, minutes_ago, steps, caller, callee="4000", direction="in"):
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    record_event(pbx, ce.CallEvent(call_id, ce.RINGING, at, caller=caller, callee=callee, direction=direction))
    for kind, seconds, extra in steps:
        record_event(pbx, ce.CallEvent(call_id, kind, at + dt.timedelta(seconds=seconds), **extra))


@pytest.fixture
def calls(pbx, agent, agent_phone):
    play(pbx, "missed", 50, [(ce.HUNGUP, 25, {})], "13900000001")
    play(pbx, "abandoned", 40, [(ce.QUEUED, 0, {"queue": "support"}), (ce.ABANDONED, 30, {}),
                                (ce.HUNGUP, 30, {})], "13900000002")
    play(pbx, "answered", 30, [(ce.ANSWERED, 5, {"extension": "1001"}), (ce.HUNGUP, 60, {})], "13900000003")
    play(pbx, "call-back", 20, [(ce.ANSWERED, 5, {"extension": "1001"}), (ce.HUNGUP, 60, {})], "1001",
         callee="13900000002", direction="out")
    play(pbx, "old", 60 * 24 * 15, [(ce.HUNGUP, 25, {})], "13900000004")  # a fortnight ago and more
    return {c.call_id: c for c in Call.objects.all()}


def test_unanswered_calls_wait_for_a_call_back(calls, agent, english):
    page = inbox.inbox_page(agent, inbox.clean_filters(channels=["phone"]))
    assert [(i.source, i.pk) for i in page.items] == [("call", calls["missed"].pk)]
    item = page.items[0]
    assert item.channel == "phone" and item.status == "new" and item.needs_reply
    assert "13900000001" in item.subject and "Missed" in item.snippet
    # the channel filter and the counts see it too; a status other than "new" does not
    assert inbox.inbox_page(agent, inbox.InboxFilters(), with_counts=True).counts.get("phone") == 1
    assert inbox.inbox_page(agent, inbox.clean_filters(statuses=["waiting"])).items == []


def test_the_pane_offers_a_call_back_and_a_phone_ticket(calls, agent, client, english):
    client.force_login(agent)
    missed = calls["missed"]
    html = client.get(reverse("contact_center:inbox_open", args=["call", missed.pk])).content.decode()
    assert 'id="call-back"' in html and f"tel:{missed.number}" in html
    r = client.post(reverse("contact_center:inbox_call_ticket", args=[missed.pk]), {"subject": "回电 发票问题"})
    ticket = Ticket.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("contact_center:inbox_open", args=["ticket", ticket.pk])
    assert (ticket.subject, ticket.channel) == ("回电 发票问题", "phone") and missed.number in ticket.description


def test_others_see_no_call_of_a_caller_they_cannot_see(calls, users, client):
    rep = users["rep_b"]
    assert inbox.inbox_page(rep, inbox.clean_filters(channels=["phone"])).items == []
    client.force_login(rep)
    assert client.get(reverse("contact_center:inbox_open", args=["call", calls["missed"].pk])).status_code == 404
    assert client.post(reverse("contact_center:inbox_call_ticket", args=[calls["missed"].pk])).status_code == 404


def test_the_call_source_costs_one_query_however_many_calls(pbx, agent, agent_phone,
                                                            django_assert_max_num_queries):
    for n in range(3):
        play(pbx, f"m{n}", 10 + n, [(ce.HUNGUP, 25, {})], f"1390000010{n}")
    filters = inbox.clean_filters(channels=["phone"])
    with django_assert_max_num_queries(3) as few:
        assert len(inbox.inbox_page(agent, filters).items) == 3
    for n in range(3, 30):
        play(pbx, f"m{n}", 10 + n, [(ce.HUNGUP, 25, {})], f"139000001{n:02d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(inbox.inbox_page(agent, filters).items) == 30
