"""/api/v1/opportunities, /pipelines, /forecast: the same rules as the UI, field-level 400s, 404 for what a
user may not see, 409 on a stale version."""

import json

import pytest

from guanxi.sales.models import Opportunity, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


def test_create_get_patch_delete(api, zhang, pipeline, stages):
    account, contact = zhang
    r = api["rep_a"].post("opportunities", {"name": "CT 设备", "account_id": account.pk, "contact_id": contact.pk,
                                            "amount": "88000.5", "expected_close": "2031-04-30"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["amount"] == "88000.50" and body["stage"]["id"] == stages["open"][0].pk
    assert body["probability"] == stages["open"][0].probability and body["currency"] == "CNY"
    assert body["account"] == {"id": account.pk, "name": account.name}
    oid = body["id"]
    assert api["rep_a"].get(f"opportunities/{oid}").json()["name"] == "CT 设备"
    r = api["rep_a"].patch(f"opportunities/{oid}", {"version": 1, "amount": 90000, "competitors": "GE"})
    assert r.status_code == 200 and r.json()["amount"] == "90000.00" and r.json()["version"] == 2
    r = api["rep_a"].patch(f"opportunities/{oid}", {"version": 1, "amount": 1})
    assert r.status_code == 409 and r.json()["current"]["amount"] == "90000.00"
    assert api["rep_a"].delete(f"opportunities/{oid}").status_code == 204
    assert not Opportunity.objects.exists()


def test_bad_input_is_a_400_naming_the_fields(api, zhang):
    account, _contact = zhang
    r = api["rep_a"].post("opportunities", {"name": "", "account_id": account.pk, "amount": "-1",
                                            "probability": 101, "currency": "人民币"})
    assert r.status_code == 400
    assert "probability" in r.json()["errors"]  # caught by the schema before the service
    r = api["rep_a"].post("opportunities", {"name": "", "account_id": account.pk, "amount": "-1", "currency": "x"})
    assert r.status_code == 400 and {"name", "amount", "currency"} <= set(r.json()["errors"])
    r = api["rep_a"].post("opportunities", {"name": "x", "account_id": account.pk, "amount": "NaN"})
    assert r.status_code == 400 and "amount" in r.json()["errors"]
    assert not Opportunity.objects.exists()


def test_other_reps_opportunities_are_404_and_never_listed(api, deal):
    assert api["rep_b"].get(f"opportunities/{deal.pk}").status_code == 404
    assert api["rep_b"].patch(f"opportunities/{deal.pk}", {"version": 1, "name": "x"}).status_code == 404
    assert api["rep_b"].post(f"opportunities/{deal.pk}/move", {"stage_id": deal.stage_id, "version": 1}
                             ).status_code == 404
    assert api["rep_b"].get("opportunities").json()["items"] == []
    assert [o["id"] for o in api["manager_a"].get("opportunities").json()["items"]] == [deal.pk]
    assert api["rep_a"].get("opportunities", {"owner": "me"}).json()["items"][0]["id"] == deal.pk


def test_move_refused_and_allowed(api, deal, stages):
    r = api["rep_a"].post(f"opportunities/{deal.pk}/move", {"stage_id": stages["lost"].pk, "version": 1})
    assert r.status_code == 400 and "lost_reason" in r.json()["errors"]
    assert Opportunity.objects.get(pk=deal.pk).stage_id == stages["open"][0].pk
    r = api["rep_a"].post(f"opportunities/{deal.pk}/move", {"stage_id": stages["lost"].pk, "version": 1,
                                                             "lost_reason": "价格"})
    assert r.status_code == 200 and r.json()["status"] == "lost" and r.json()["closed_at"]
    r = api["rep_a"].post(f"opportunities/{deal.pk}/move", {"stage_id": stages["open"][1].pk, "version": 2})
    assert r.status_code == 400 and "stage_id" in r.json()["errors"]
    r = api["rep_a"].post(f"opportunities/{deal.pk}/reopen", {"version": 2})
    assert r.status_code == 200 and r.json()["status"] == "open" and r.json()["lost_reason"] == ""


def test_list_filters(api, deal, stages, zhang, users):
    from guanxi.sales import services

    account, _contact = zhang
    services.create_opportunity(users["rep_a"], {"name": "MRI", "account_id": account.pk,
                                                 "stage_id": stages["open"][1].pk, "expected_close": "2031-04-01"})
    names = lambda **p: sorted(o["name"] for o in api["rep_a"].get("opportunities", p).json()["items"])  # noqa: E731
    assert names(stage=stages["open"][1].pk) == ["MRI"]
    assert names(close_month="2031-03") == ["CT 设备采购"]
    assert names(status="open") == ["CT 设备采购", "MRI"]
    assert names(account=account.pk) == ["CT 设备采购", "MRI"]
    for bad in ({"close_month": "2031-13"}, {"status": "maybe"}, {"owner": "someone"}):
        r = api["rep_a"].get("opportunities", bad)
        assert r.status_code == 400 and set(r.json()["errors"]) == set(bad)
    page = api["rep_a"].get("opportunities", {"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next"]
    second = api["rep_a"].get("opportunities", {"limit": 1, "cursor": page["next"]}).json()
    assert second["items"][0]["id"] != page["items"][0]["id"]


def test_pipelines_admin_only(api, pipeline):
    r = api["rep_a"].post("pipelines", {"name": "渠道"})
    assert r.status_code == 403
    r = api["admin"].post("pipelines", {"name": "渠道", "currency": "USD",
                                        "stages": [{"name": "初访", "probability": 20}, {"name": "成交", "kind": "won",
                                                                                         "probability": 100}]})
    assert r.status_code == 201 and [s["name"] for s in r.json()["stages"]] == ["初访", "成交"]
    pid = r.json()["id"]
    r = api["admin"].post(f"pipelines/{pid}/stages", {"name": "谈判", "probability": 60, "position": 1})
    assert r.status_code == 201
    stage_ids = [s["id"] for s in api["admin"].get(f"pipelines/{pid}").json()["stages"]]
    admin = api["admin"]
    r = admin.client.put(f"/api/v1/pipelines/{pid}/stage-order", json.dumps({"stage_ids": stage_ids[::-1]}),
                         content_type="application/json", headers=admin.headers)
    assert r.status_code == 200 and [s["id"] for s in r.json()["stages"]] == stage_ids[::-1]
    r = admin.client.put(f"/api/v1/pipelines/{pid}/stage-order", json.dumps({"stage_ids": stage_ids[:1]}),
                         content_type="application/json", headers=admin.headers)
    assert r.status_code == 400 and "stage_ids" in r.json()["errors"]
    r = api["admin"].patch(f"stages/{stage_ids[1]}", {"name": "商务谈判"})
    assert r.status_code == 200 and r.json()["name"] == "商务谈判"
    assert api["rep_a"].patch(f"stages/{stage_ids[1]}", {"name": "x"}).status_code == 403
    assert len(api["rep_a"].get("pipelines").json()["items"]) == 2


def test_deleting_a_stage_with_opportunities_is_refused(api, deal):
    r = api["admin"].delete(f"stages/{deal.stage_id}")
    assert r.status_code == 400 and f"“{deal.stage.name}”" in r.json()["errors"]["__all__"][0]  # names it
    assert Stage.objects.filter(pk=deal.stage_id).exists()


def test_board(api, deal, pipeline, stages):
    r = api["rep_a"].get(f"pipelines/{pipeline.pk}/board")
    assert r.status_code == 200
    first = r.json()["columns"][0]
    assert first["count"] == 1 and first["total"] == "120000.00" and first["cards"][0]["id"] == deal.pk
    assert api["rep_b"].get(f"pipelines/{pipeline.pk}/board").json()["columns"][0]["count"] == 0
