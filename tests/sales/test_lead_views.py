"""The lead pages: create by the rules, status with a reason, convert from the page, rules page; the list's
query count does not grow with rows; another rep's lead is a 404."""

import pytest

from guanxi.sales import lead_services
from guanxi.sales.models import Lead, LeadStatus

pytestmark = pytest.mark.django_db


def test_create_by_rules_change_status_and_convert(client, users, pipeline):
    lead_services.save_assignment_rules(users["admin"], [{"name": "A", "member_ids": [users["rep_a2"].pk]}])
    client.force_login(users["manager_a"])
    r = client.post("/sales/leads/new/", {"name": "", "owner_id": "auto"})
    assert r.status_code == 200 and "is-invalid" in r.content.decode() and not Lead.objects.exists()
    r = client.post("/sales/leads/new/", {"name": "何平", "company": "青岛海纳电子", "phone": "13700001111",
                                          "owner_id": "auto"})
    lead = Lead.objects.get()
    assert r.status_code == 302 and lead.owner == users["rep_a2"]
    r = client.post(f"/sales/leads/{lead.pk}/status/", {"status": "disqualified", "version": 1}, follow=True)
    assert Lead.objects.get().status == LeadStatus.NEW  # no reason: refused
    r = client.post(f"/sales/leads/{lead.pk}/status/", {"status": "qualified", "version": 1})
    assert Lead.objects.get().status == LeadStatus.QUALIFIED
    page = client.get(f"/sales/leads/{lead.pk}/convert/").content.decode()
    assert "青岛海纳电子" in page
    r = client.post(f"/sales/leads/{lead.pk}/convert/", {"version": 2, "account_name": "青岛海纳电子有限公司",
                                                          "create_opportunity": "on", "amount": "abc"})
    assert r.status_code == 200 and Lead.objects.get().status == LeadStatus.QUALIFIED
    r = client.post(f"/sales/leads/{lead.pk}/convert/", {"version": 2, "account_name": "青岛海纳电子有限公司",
                                                          "create_opportunity": "on", "amount": "80000"})
    lead = Lead.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/sales/opportunities/{lead.converted_opportunity_id}/"
    assert lead.converted_account.name == "青岛海纳电子有限公司" and lead.converted_account.owner == users["rep_a2"]
    assert client.get(f"/sales/leads/{lead.pk}/").status_code == 200


def test_list_is_constant_queries_and_private(client, users, django_assert_max_num_queries):
    for i in range(3):
        lead_services.create_lead(users["rep_a"], {"name": f"<b>线索{i}</b>", "company": "X"})
    other = lead_services.create_lead(users["rep_b"], {"name": "别人的线索", "company": "Y"})
    client.force_login(users["rep_a"])
    with django_assert_max_num_queries(15) as few:
        page = client.get("/sales/leads/").content.decode()
    assert "&lt;b&gt;线索0&lt;/b&gt;" in page and "别人的线索" not in page
    for i in range(20):
        lead_services.create_lead(users["rep_a"], {"name": f"更多{i}", "company": "X"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/sales/leads/")
    assert client.get(f"/sales/leads/{other.pk}/").status_code == 404
    assert client.get("/settings/lead-rules/").status_code == 403


def test_rules_page_saves_in_order(client, users):
    client.force_login(users["admin"])
    r = client.post("/settings/lead-rules/", {
        "count": "0", "rules-0-name": "华东", "rules-0-active": "on", "rules-0-provinces": "上海市，浙江省",
        "rules-0-member_ids": [users["rep_a"].pk, users["rep_a2"].pk]})
    assert r.status_code == 302
    page = client.get("/settings/lead-rules/").content.decode()
    assert "上海市, 浙江省" in page
    lead = lead_services.create_lead(users["admin"], {"name": "t", "company": "c", "province": "浙江省"},
                                     auto_assign=True)
    assert lead.owner == users["rep_a"]
