"""The cloud PBX's webhook and the token API: signatures, bad input naming its fields, duplicates and events out of
order, the call's activity on the contact's timeline (once), the calls list and the API."""

import datetime as dt
import json

import pytest

from guanxi.activities.models import Activity
from guanxi.contact_center.call_models import Call, CallEventLog
from guanxi.contact_center.call_services import sign
from guanxi.core.services import issue_token
from guanxi.customers import services as customer_services
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def at(seconds):
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def post(client, pbx, body, secret="webhook-secret", raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    return client.post(f"/cc/cti/webhook/{pbx.key}", data, content_type="application/json",
                       headers={"X-Guanxi-Signature": sign(secret, data)})


def ev(kind, seconds, call_id="c-1", **extra):
    return {"call_id": call_id, "event": kind, "at": at(seconds), **extra}


def answered_call(call_id="c-1", caller="13800138000", ext="1001", wait=10, talk=120, queue="support"):
    return [ev("ringing", 0, call_id, caller=caller, callee="4000", direction="in", id=f"{call_id}-1"),
            ev("queued", 1, call_id, queue=queue, id=f"{call_id}-2"),
            ev("ringing", 1 + wait - 2, call_id, extension=ext, id=f"{call_id}-3"),
            ev("answered", 1 + wait, call_id, extension=ext, id=f"{call_id}-4"),
            ev("hungup", 1 + wait + talk, call_id, id=f"{call_id}-5",
               recording_url=f"https://pbx.example.cn/rec/{call_id}.wav")]


def test_signature_is_checked(client, pbx):
    body = json.dumps(ev("ringing", 0)).encode()
    assert post(client, pbx, None, secret="wrong", raw=body).status_code == 401
    unsigned = client.post(f"/cc/cti/webhook/{pbx.key}", body, content_type="application/json")
    assert unsigned.status_code == 401 and "X-Guanxi-Signature" in unsigned.json()["errors"]
    assert client.post("/cc/cti/webhook/nope", body, content_type="application/json").status_code == 404
    assert not Call.objects.exists()
    assert post(client, pbx, ev("ringing", 0)).status_code == 201


def test_bad_input_is_a_400_naming_the_fields(client, pbx):
    response = post(client, pbx, {"call_id": "", "event": "boom", "at": "soon", "caller": 5.5})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"call_id", "event", "at", "caller"}
    assert post(client, pbx, None, raw=b"{not json").json()["errors"] == {"body": ["Send a JSON object."]}
    assert post(client, pbx, None, raw=b"[1]").status_code == 400
    nul = post(client, pbx, None, raw=b'{"call_id": "a\\u0000", "event": "ringing", "at": "2026-11-24T10:00:00Z"}')
    assert nul.status_code == 400 and set(nul.json()["errors"]) == {"call_id"}  # never a database error
    assert not Call.objects.exists()


def test_answered_call_becomes_one_activity_on_the_contact(client, pbx, agent_phone, agent, users):
    contact = customer_services.create_contact(agent, {"name": "王芳", "phones": ["+86 138 0013 8000"]})
    for body in answered_call():
        assert post(client, pbx, body).status_code == 201
    call = Call.objects.get()
    assert (call.status, call.outcome, call.contact, call.owner) == ("ended", "answered", contact, agent)
    assert (call.number, call.extension, call.queue) == ("+8613800138000", "1001", "support")
    assert (call.wait_seconds, call.duration_seconds) == (10, 120)
    activity = Activity.objects.get()
    assert call.activity == activity and activity.contact == contact and activity.author == agent
    assert (activity.kind, activity.direction, activity.duration_seconds) == ("call", "in", 120)
    assert activity.subject == "Inbound call · Answered"
    assert "https://pbx.example.cn/rec/c-1.wav" in activity.body and "Waited 10 s" in activity.body
    # The hang-up again (a retry), and the same event again: nothing changes, no second activity.
    again = post(client, pbx, answered_call()[-1])
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Activity.objects.count() == 1 and CallEventLog.objects.count() == 5


def test_events_out_of_order_land_where_they_belong(client, pbx, agent_phone, agent):
    contact = customer_services.create_contact(agent, {"name": "王芳", "phones": ["13800138000"]})
    events = answered_call()
    for body in reversed(events):  # the hang-up first, the ringing last
        post(client, pbx, body)
    call = Call.objects.get()
    assert (call.outcome, call.wait_seconds, call.duration_seconds) == ("answered", 10, 120)
    assert call.started_at == T0 and call.contact == contact
    activity = Activity.objects.get()
    assert activity.duration_seconds == 120 and activity.subject == "Inbound call · Answered"


def test_events_without_ids_are_told_apart_by_kind_extension_and_time(client, pbx):
    for body in (ev("ringing", 0, caller="13900139000"), ev("ringing", 0, caller="13900139000"),
                 ev("ringing", 5, extension="1002")):
        post(client, pbx, body)
    assert CallEventLog.objects.count() == 2


def test_abandoned_and_voicemail_and_unknown_callers(client, pbx, users):
    for body in (ev("ringing", 0, "a-1", caller="13900139000"), ev("queued", 0, "a-1", queue="sales"),
                 ev("abandoned", 45, "a-1"), ev("hungup", 45, "a-1"),
                 ev("ringing", 0, "v-1", caller="13700137000"), ev("hungup", 20, "v-1", outcome="voicemail")):
        post(client, pbx, body)
    abandoned, voicemail = Call.objects.get(call_id="a-1"), Call.objects.get(call_id="v-1")
    assert (abandoned.outcome, abandoned.wait_seconds, abandoned.contact) == ("abandoned", 45, None)
    assert voicemail.outcome == "voicemail"
    assert not Activity.objects.exists()  # no known customer: no timeline to put it on


def test_agentless_call_is_logged_as_the_connections_user(client, pbx, users, zhang):
    _account, contact = zhang
    for body in (ev("ringing", 0, "m-1", caller="13800138000"), ev("hungup", 30, "m-1")):
        post(client, pbx, body)
    activity = Activity.objects.get()
    assert activity.contact == contact and activity.author == users["admin"]
    assert activity.subject == "Inbound call · Missed"


def test_calls_list_page_and_queries(client, pbx, agent, agent_phone, users, django_assert_max_num_queries):
    customer_services.create_contact(agent, {"name": "王芳", "phones": ["13800138000"]})
    for n in range(6):
        for body in answered_call(call_id=f"c-{n}"):
            post(client, pbx, body)
    client.force_login(agent)
    with django_assert_max_num_queries(8):
        page = client.get("/cc/calls/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("data-call=") == 6 and "王芳" in html and "https://pbx.example.cn/rec/c-0.wav" in html


def test_api_list_detail_events_and_metrics(client, pbx, agent, agent_phone, users):
    for body in answered_call():
        post(client, pbx, body)
    admin, rep = ApiClient(issue_token(users["admin"])), ApiClient(issue_token(users["rep_b"]))
    items = admin.get("calls", {"outcome": "answered"}).json()["items"]
    assert [c["call_id"] for c in items] == ["c-1"] and items[0]["agent"]["id"] == agent.pk
    assert admin.get("calls", {"outcome": "missed"}).json()["items"] == []
    assert rep.get("calls").json()["items"] == []  # not their call, not their contact
    assert rep.get(f"calls/{items[0]['id']}").status_code == 404
    detail = admin.get(f"calls/{items[0]['id']}").json()
    assert [e["kind"] for e in detail["events"]] == ["ringing", "queued", "ringing", "answered", "hungup"]
    assert admin.get("calls", {"outcome": "exploded"}).status_code == 400

    posted = admin.post("calls/events", {"source": pbx.pk, **ev("ringing", 0, "api-1", caller="13900139000")})
    assert posted.status_code == 201 and posted.json()["call"]["number"] == "+8613900139000"
    assert admin.post("calls/events", {"source": pbx.pk, **ev("ringing", 0, "api-1")}).json()["duplicate"] is True
    bad = admin.post("calls/events", {"source": pbx.pk, "call_id": "x", "event": "ringing", "at": "noon"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"at"}
    assert rep.post("calls/events", {"source": pbx.pk, **ev("ringing", 0, "api-2")}).status_code == 404

    metrics = {r["group"]: r for r in admin.get("calls/metrics", {"period": "2026-11", "by": "queue"}).json()["rows"]}
    assert metrics["support"]["average_wait_seconds"] == "10.00" and metrics[""]["calls"] == 1
    assert admin.get("calls/metrics", {"by": "team"}).status_code == 400
