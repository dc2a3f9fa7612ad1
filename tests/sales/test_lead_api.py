"""/api/v1/leads and /lead-assignment-rules: rules assign API leads, conversion all or nothing with keyed
errors, 404 for what a user may not see, 409 on a stale version, constant queries per page."""

import pytest

from guanxi.sales.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


def test_rules_then_leads_through_the_api(api, users, pipeline):
    r = api["rep_a"].put("lead-assignment-rules", {"rules": [{"name": "x", "member_ids": [users["rep_a"].pk]}]})
    assert r.status_code == 403
    r = api["admin"].put("lead-assignment-rules", {"rules": [
        {"name": "医疗", "industries": ["healthcare"], "member_ids": [users["rep_b"].pk]},
        {"name": "其他", "member_ids": [users["rep_a"].pk, users["rep_a2"].pk]}]})
    assert r.status_code == 200, r.content
    assert [rule["name"] for rule in r.json()["rules"]] == ["医疗", "其他"]
    r = api["admin"].post("leads", {"name": "钱多多", "company": "上海瑞金医疗器械", "industry": "healthcare"})
    assert r.status_code == 201 and r.json()["owner"]["id"] == users["rep_b"].pk
    assert r.json()["assigned_by_rule"]["name"] == "医疗"
    lead_id = r.json()["id"]
    assert api["rep_a"].get(f"leads/{lead_id}").status_code == 404
    r = api["rep_b"].post(f"leads/{lead_id}/status", {"status": "qualified", "version": 1})
    assert r.status_code == 200 and r.json()["status"] == "qualified"
    r = api["rep_b"].patch(f"leads/{lead_id}", {"version": 1, "title": "院长"})
    assert r.status_code == 409 and r.json()["current"]["status"] == "qualified"
    r = api["rep_b"].post(f"leads/{lead_id}/convert", {"version": 2, "amount": "-1"})
    assert r.status_code == 400 and "opportunity.amount" in r.json()["errors"]
    r = api["rep_b"].post(f"leads/{lead_id}/convert", {"version": 2, "amount": "300000"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "converted" and body["converted_account"]["name"] == "上海瑞金医疗器械"
    assert api["rep_b"].get(f"opportunities/{body['converted_opportunity']['id']}").json()["amount"] == "300000.00"


def test_bad_input_is_a_400_naming_fields(api):
    r = api["rep_a"].post("leads", {"name": "x", "phone": "not a phone", "source": "carrier-pigeon"})
    assert r.status_code == 400 and {"phone", "source"} <= set(r.json()["errors"])
    r = api["rep_a"].get("leads", params={"status": "sleeping"})
    assert r.status_code == 400 and "status" in r.json()["errors"]
    r = api["admin"].put("lead-assignment-rules", {"rules": [{"name": "", "member_ids": [99999]}]})
    assert r.status_code == 400 and {"rules.0.name", "rules.0.member_ids"} <= set(r.json()["errors"])


def test_list_filters_pages_and_does_not_query_per_row(api, users, django_assert_max_num_queries):
    from guanxi.sales import lead_services

    for i in range(3):
        lead_services.create_lead(users["rep_a"], {"name": f"线索{i}", "company": f"公司{i}", "source": "website"})
    lead_services.create_lead(users["rep_b"], {"name": "别人的", "company": "B"})
    with django_assert_max_num_queries(12) as few:
        r = api["rep_a"].get("leads", params={"limit": 2, "source": "website"})
    first_page_queries = len(few.captured_queries)  # read now: the next request empties Django's query log
    assert len(r.json()["items"]) == 2 and r.json()["next"]
    r2 = api["rep_a"].get("leads", params={"limit": 2, "source": "website", "cursor": r.json()["next"]})
    assert [i["name"] for i in r2.json()["items"]] == ["线索0"] and r2.json()["next"] is None
    for i in range(10):
        lead_services.create_lead(users["rep_a"], {"name": f"更多{i}", "company": "C"})
    with django_assert_max_num_queries(first_page_queries):
        r = api["rep_a"].get("leads", params={"limit": 12})
    assert len(r.json()["items"]) == 12
    assert api["rep_a"].get("leads", params={"q": "公司1"}).json()["items"][0]["name"] == "线索1"
    assert Lead.objects.count() == 14
