"""/api/v1/tickets and friends: the same rules as the UI, field-level 400s, 404 for another's ticket, 409 on a
stale version, keyset pages without a query per row."""

import pytest

from guanxi.core.services import issue_token
from guanxi.customers import services as customer_services
from guanxi.service.models import Ticket
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users, desk):
    everyone = {**users, **{k: desk[k] for k in ("lead", "wang", "li", "zhao")}}
    return {name: ApiClient(issue_token(user)) for name, user in everyone.items()}


@pytest.fixture
def account(users):
    return customer_services.create_account(users["rep_a"], {"name": "上海普通贸易公司", "classification": "B"})


def test_create_get_patch_reply_status(api, desk, account):
    r = api["rep_a"].post("tickets", {"subject": "无法导出报表", "account_id": account.pk,
                                      "question_group_id": desk["billing"].pk, "priority": "high"})
    assert r.status_code == 201, r.content
    body = r.json()
    tid = body["id"]
    assert body["assignee"]["id"] == desk["wang"].pk and body["queue"]["id"] == desk["general"].pk
    assert body["sla"]["first_response_due_at"] and body["status"] == "new" and body["channel"] == "api"
    phoned = api["rep_a"].post("tickets", {"subject": "电话报修", "channel": "phone"})
    assert phoned.status_code == 201 and phoned.json()["channel"] == "phone"
    r = api["rep_a"].post("tickets", {"subject": "x", "channel": "pigeon"})
    assert r.status_code == 400 and "channel" in r.json()["errors"]
    r = api["wang"].patch(f"tickets/{tid}", {"version": 1, "priority": "urgent"})
    assert r.status_code == 200 and r.json()["priority"] == "urgent" and r.json()["version"] == 2
    r = api["wang"].patch(f"tickets/{tid}", {"version": 1, "subject": "x"})
    assert r.status_code == 409 and r.json()["current"]["version"] == 2
    assert api["wang"].post(f"tickets/{tid}/messages", {"kind": "note", "body": "查日志"}).status_code == 201
    assert api["wang"].post(f"tickets/{tid}/messages", {"body": "已修复"}).status_code == 201
    messages = api["rep_a"].get(f"tickets/{tid}/messages").json()["items"]
    assert [m["kind"] for m in messages] == ["note", "reply"]
    ticket = api["wang"].get(f"tickets/{tid}").json()
    assert ticket["status"] == "open" and ticket["sla"]["first_response_at"]
    r = api["wang"].post(f"tickets/{tid}/status", {"status": "closed", "version": ticket["version"]})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = api["wang"].post(f"tickets/{tid}/messages", {"body": "again"})
    assert r.status_code == 400 and "body" in r.json()["errors"]


def test_bad_input_is_a_400_naming_the_fields(api, desk, account):
    r = api["rep_a"].post("tickets", {"subject": "", "priority": "asap", "account_id": 999999})
    assert r.status_code == 400 and {"subject", "priority", "account_id"} <= set(r.json()["errors"])
    r = api["rep_a"].post("tickets", {"priority": "low"})
    assert r.status_code == 400 and "subject" in r.json()["errors"]
    assert api["rep_a"].get("tickets", {"status": "nope"}).status_code == 400
    assert api["rep_a"].get("tickets", {"cursor": "garbage"}).status_code == 400
    assert not Ticket.objects.exists()


def test_another_reps_ticket_is_404_and_never_listed(api, desk, account):
    tid = api["rep_a"].post("tickets", {"subject": "保密", "account_id": account.pk}).json()["id"]
    for call in (lambda c: c.get(f"tickets/{tid}"), lambda c: c.get(f"tickets/{tid}/messages"),
                 lambda c: c.patch(f"tickets/{tid}", {"version": 1, "subject": "x"}),
                 lambda c: c.post(f"tickets/{tid}/status", {"status": "open", "version": 1})):
        assert call(api["rep_b"]).status_code == 404
    assert api["rep_b"].get("tickets").json()["items"] == []


def test_list_pages_with_a_cursor_without_a_query_per_row(api, desk, account, django_assert_max_num_queries):
    for i in range(5):
        api["rep_a"].post("tickets", {"subject": f"问题 {i}", "account_id": account.pk})
    with django_assert_max_num_queries(8):
        first = api["lead"].get("tickets", {"limit": 3}).json()
    second = api["lead"].get("tickets", {"limit": 3, "cursor": first["next"]}).json()
    ids = [t["id"] for t in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 5 and second["next"] is None
    assert len(api["wang"].get("tickets", {"assignee": "me"}).json()["items"]) == Ticket.objects.filter(
        owner=desk["wang"]).count()
    assert [q["name"] for q in api["zhao"].get("queues").json()["items"]] == ["General", "VIP"]
    assert {g["name"] for g in api["zhao"].get("question-groups").json()["items"]} == {"账单", "网络"}
