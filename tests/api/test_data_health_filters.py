"""missing= / invalid= on GET /api/v1/contacts and /api/v1/accounts: the lists behind the data-health figures."""

import pytest

from guanxi.customers import services
from guanxi.customers.models import ContactMethod


@pytest.fixture
def records(users):
    """rep_a: a complete contact, one with no email or title, one with a legacy phone and email kept as typed;
    an account with an industry and one without. rep_b's bare contact is not rep_a's to see."""
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "星辰医疗", "industry": "healthcare",
                                            "addresses": [{"line": "北京市朝阳区建国路88号"}]})
    bare_account = services.create_account(rep, {"name": "无名公司"})
    complete = services.create_contact(rep, {"name": "张伟", "title": "经理", "account_ids": [account.pk],
                                             "phones": ["138 0013 8000"], "emails": ["zhang.wei@example.cn"]})
    no_email = services.create_contact(rep, {"name": "李娜", "phones": ["139 0013 9000"]})
    legacy = services.create_contact(rep, {"name": "Oliver Grant", "title": "CTO"})
    ContactMethod.objects.create(contact=legacy, kind="phone", value="12-34", normalized="12-34")
    ContactMethod.objects.create(contact=legacy, kind="email", value="oliver at grant", normalized="")
    services.create_contact(users["rep_b"], {"name": "王芳"})
    return {"account": account, "bare_account": bare_account, "complete": complete, "no_email": no_email,
            "legacy": legacy}


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["items"]}


def test_contacts_missing_a_field(api, records):
    rep = api["rep_a"]
    # legacy's methods were written around the services: its email column is empty, as the health page counts
    assert _ids(rep.get("contacts", {"missing": "email"})) == {records["no_email"].pk, records["legacy"].pk}
    assert _ids(rep.get("contacts", {"missing": "title"})) == {records["no_email"].pk}
    assert _ids(rep.get("contacts", {"missing": "account"})) == {records["no_email"].pk, records["legacy"].pk}
    # repeated: both missing (AND, as the UI list)
    assert _ids(rep.get("contacts", {"missing": ["title", "email"]})) == {records["no_email"].pk}
    # combined with the other filters
    assert _ids(rep.get("contacts", {"missing": "email", "q": "李娜"})) == {records["no_email"].pk}


def test_contacts_with_an_invalid_phone_or_email(api, records):
    rep = api["rep_a"]
    assert _ids(rep.get("contacts", {"invalid": "phone"})) == {records["legacy"].pk}
    assert _ids(rep.get("contacts", {"invalid": "email"})) == {records["legacy"].pk}


def test_accounts_missing_a_field(api, records):
    rep = api["rep_a"]
    assert _ids(rep.get("accounts", {"missing": "industry"})) == {records["bare_account"].pk}
    assert _ids(rep.get("accounts", {"missing": "address"})) == {records["bare_account"].pk}
    assert _ids(rep.get("accounts", {"missing": "website"})) == {records["account"].pk, records["bare_account"].pk}


def test_counts_match_the_data_health_figures(api, records):
    """Each completeness figure of /data-health is total minus the length of the list it links to."""
    rep = api["rep_a"]
    report = rep.get("data-health").json()
    for kind in ("contact", "account"):
        for figure in report[kind]["completeness"]:
            listed = _ids(rep.get(f"{kind}s", {"missing": figure["key"], "limit": 200}))
            assert len(listed) == figure["total"] - figure["count"], (kind, figure["key"])
        for figure in report[kind]["invalid"]:
            assert len(_ids(rep.get(f"{kind}s", {"invalid": figure["key"]}))) == figure["count"], figure["key"]


@pytest.mark.parametrize("path, params, field", [
    ("contacts", {"missing": "nope"}, "missing"),
    ("contacts", {"invalid": "title"}, "invalid"),
    ("accounts", {"missing": "email"}, "missing"),
    ("accounts", {"invalid": "phone"}, "invalid"),  # accounts have no invalid figures
])
def test_unknown_values_are_400_naming_the_parameter(api, records, path, params, field):
    r = api["rep_a"].get(path, params)
    assert r.status_code == 400
    body = r.json()
    assert body["detail"] and list(body["errors"]) == [field]


def test_other_users_records_never_appear(api, records, users):
    assert records["no_email"].pk not in _ids(api["rep_b"].get("contacts", {"missing": "email"}))
    assert len(_ids(api["rep_b"].get("contacts", {"missing": "title"}))) == 1  # only 王芳


@pytest.mark.parametrize("path, params", [("contacts", {"missing": "address"}), ("contacts", {"invalid": "phone"}),
                                          ("contacts", {"missing": "email", "invalid": "email"}),
                                          ("accounts", {"missing": "address"}), ("accounts", {"missing": "industry"})])
def test_filtered_lists_run_a_constant_number_of_queries(api, users, django_assert_max_num_queries, path, params):
    rep = users["rep_a"]
    for i in range(30):
        contact = services.create_contact(rep, {"name": f"联系人{i:02d}", "tags": ["重点"]})
        ContactMethod.objects.create(contact=contact, kind="phone", value=f"{i}-1", normalized=f"{i}-1")
        ContactMethod.objects.create(contact=contact, kind="email", value=f"x{i}", normalized="")
        services.create_account(rep, {"name": f"公司{i:02d}", "tags": ["重点"]})
    client = api["rep_a"]
    client.get("users/me")  # the token's last-used time is written once, not on every request
    with django_assert_max_num_queries(12) as few:
        assert len(_ids(client.get(path, params | {"limit": 2}))) == 2
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_ids(client.get(path, params | {"limit": 50}))) == 30


def test_the_parameters_are_documented_with_their_values(client):
    spec = client.get("/api/v1/openapi.json").json()

    def values(path, name):
        params = spec["paths"][path]["get"]["parameters"]
        return next(p for p in params if p["name"] == name)["schema"]["items"]["enum"]

    assert set(values("/api/v1/contacts", "missing")) >= {"email", "phone", "title", "account", "address"}
    assert values("/api/v1/contacts", "invalid") == ["bounced", "email", "phone"]
    assert set(values("/api/v1/accounts", "missing")) >= {"industry", "website", "address"}
