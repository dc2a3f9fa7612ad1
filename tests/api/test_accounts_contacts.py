"""Accounts and contacts through /api/v1/: CRUD, errors, conflicts, visibility, filters, paging, search."""

import pytest

from guanxi.core.models import AuditEntry, CustomField
from guanxi.customers import services
from guanxi.customers.models import Account, Contact


@pytest.fixture
def spend_field(db):
    return CustomField.objects.create(model="account", key="spend", label_zh="年采购额", label_en="Annual spend",
                                      field_type="money")



# ------------------------------------------------------------------ CRUD


def test_account_round_trip(api, users, spend_field):
    rep = api["rep_a"]
    r = rep.post("accounts", {"name": "  上海云杉  ", "classification": "B", "industry": "it", "tags": ["重点", "华东"],
                              "phone": "021 6888 8888", "custom": {"spend": "1200.5"},
                              "addresses": ["上海市浦东新区世纪大道100号", {"kind": "billing", "city": "上海市"}]})
    assert r.status_code == 201, r.json()
    item = r.json()
    assert item["name"] == "上海云杉" and item["version"] == 1
    assert item["owner"] == {"id": users["rep_a"].pk, "name": "rep_a"}
    assert item["tags"] == ["华东", "重点"]
    assert item["phone"] == "+862168888888"
    assert item["custom"] == {"spend": "1200.50"}
    assert item["addresses"][0]["province"] == "上海市" and item["addresses"][0]["district"] == "浦东新区"
    assert item["addresses"][1]["kind"] == "billing"
    assert item["created_at"].endswith("Z")
    pk = item["id"]

    assert rep.get(f"accounts/{pk}").json() == item
    assert [a["id"] for a in rep.get("accounts").json()["items"]] == [pk]

    r = rep.patch(f"accounts/{pk}", {"version": 1, "classification": "A", "tags": ["重点"]})
    assert r.status_code == 200, r.json()
    changed = r.json()
    assert (changed["version"], changed["classification"], changed["tags"]) == (2, "A", ["重点"])
    assert changed["industry"] == "it" and changed["custom"] == {"spend": "1200.50"}  # untouched fields stay

    audit = rep.get(f"accounts/{pk}/audit").json()["items"]
    assert [e["action"] for e in audit] == ["update", "create"]
    assert audit[0]["changes"]["classification"] == ["B", "A"]

    assert rep.delete(f"accounts/{pk}").status_code == 204
    assert rep.get(f"accounts/{pk}").status_code == 404
    assert not Account.objects.filter(pk=pk).exists()


def test_contact_round_trip(api, users, zhang):
    account, _contact = zhang
    rep = api["rep_a"]
    r = rep.post("contacts", {"name": "李娜", "account_ids": [account.pk], "birthday": "1990-05-04",
                              "phones": ["+86 139 1234 5678", {"value": "010-8888 6666", "label": "办公室"}],
                              "emails": ["Li.Na@Example.com"], "marketing_consent": True})
    assert r.status_code == 201, r.json()
    item = r.json()
    assert item["phone"] == "+8613912345678"
    assert item["phones"][1] == {"value": "010-8888 6666", "normalized": "+861088886666", "label": "办公室"}
    assert item["emails"] == [{"value": "Li.Na@Example.com", "normalized": "li.na@example.com", "label": ""}]
    assert item["account_ids"] == [account.pk]
    assert item["primary_account"] == {"id": account.pk, "name": account.name}
    assert item["birthday"] == "1990-05-04" and item["marketing_consent"] is True

    r = rep.patch(f"contacts/{item['id']}", {"version": 1, "title": "总监", "emails": []})
    assert r.status_code == 200, r.json()
    assert r.json()["title"] == "总监" and r.json()["emails"] == [] and r.json()["email"] == ""
    assert r.json()["phones"] == item["phones"]

    assert rep.delete(f"contacts/{item['id']}").status_code == 204
    assert rep.get(f"contacts/{item['id']}").status_code == 404


# ------------------------------------------------------------------ bad input


def test_bad_input_is_400_naming_the_fields_and_stores_nothing(api, spend_field):
    rep = api["rep_a"]
    r = rep.post("contacts", {"name": "", "phones": ["call me"], "emails": ["nope@"], "preferred_channel": "pigeon"})
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"name", "phones.0", "emails.0", "preferred_channel"}
    assert r.json()["detail"]

    r = rep.post("accounts", {"name": "好公司", "custom": {"spend": "lots", "nope": 1}, "classification": "Z"})
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"custom.spend", "custom.nope", "classification"}
    assert Account.objects.count() == 0 and Contact.objects.count() == 0


@pytest.mark.parametrize("body, fields", [
    ({"name": 5}, {"name"}),
    ({"name": "x", "account_ids": ["one"]}, {"account_ids.0"}),
    ({"name": "x", "marketing_consent": "perhaps"}, {"marketing_consent"}),
    ({"name": "x", "birthday": "yesterday"}, {"birthday"}),
    ({"name": "x", "phones": [5]}, {"phones.0"}),
    ({"name": "x", "phones": [{"label": "home"}]}, {"phones.0.value"}),
    ({"name": "x", "custom": []}, {"custom"}),
    ({"title": "no name"}, {"name"}),
    ([], {"body"}),
    ("{not json", {"body"}),
    ('{"name": NaN}', {"body"}),
    ({"name": "nul\u0000byte"}, {"name"}),
])
def test_request_validation_errors_are_400_never_422(api, body, fields):
    r = api["rep_a"].post("contacts", body)
    assert r.status_code == 400, r.content
    assert set(r.json()["errors"]) == fields
    assert Contact.objects.count() == 0


def test_patch_needs_the_version(api, zhang):
    account, _contact = zhang
    r = api["rep_a"].patch(f"accounts/{account.pk}", {"name": "新名字"})
    assert r.status_code == 400 and "version" in r.json()["errors"]
    account.refresh_from_db()
    assert account.name == "北京星辰医疗科技有限公司"


def test_bad_ids_and_query_parameters_are_400(api, zhang):
    rep = api["rep_a"]
    assert rep.get("accounts/abc").status_code == 400
    assert rep.get("accounts/0").status_code == 400
    assert rep.get("accounts/99999999999999999999999").status_code == 400
    for params, field in [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"sort": "owner"}, "sort"),
                          ({"cursor": "garbage!!"}, "cursor"), ({"owner": "99999999999999999999"}, "owner"),
                          ({"updated_after": "soon"}, "updated_after"), ({"q": "a\u0000"}, "q")]:
        r = rep.get("accounts", params)
        assert r.status_code == 400, (params, r.content)
        assert field in r.json()["errors"], (params, r.json())


# ------------------------------------------------------------------ edit conflicts


def test_stale_version_is_409_with_the_current_item_and_nothing_overwritten(api, zhang):
    _account, contact = zhang
    rep = api["rep_a"]
    assert rep.patch(f"contacts/{contact.pk}", {"version": 1, "title": "总经理"}).status_code == 200
    r = rep.patch(f"contacts/{contact.pk}", {"version": 1, "title": "董事长"})
    assert r.status_code == 409
    body = r.json()
    assert body["detail"]
    assert body["current"]["version"] == 2 and body["current"]["title"] == "总经理"
    assert body["current"]["phones"][0]["normalized"] == "+8613800138000"
    contact.refresh_from_db()
    assert (contact.title, contact.version) == ("总经理", 2)
    assert AuditEntry.objects.filter(action="update").count() == 1


# ------------------------------------------------------------------ visibility


def test_another_teams_records_are_404_and_never_listed(api, zhang):
    account, contact = zhang
    other = api["rep_b"]
    for path in (f"accounts/{account.pk}", f"contacts/{contact.pk}"):
        for sub in ("", "/timeline", "/audit", "/notes"):
            assert other.get(path + sub).status_code == 404, path + sub
        assert other.patch(path, {"version": 1, "name": "偷改"}).status_code == 404
        assert other.post(path + "/notes", {"body": "偷看"}).status_code == 404
        assert other.delete(path).status_code == 404
    assert other.get("accounts").json() == {"items": [], "next": None}
    assert other.get("contacts").json() == {"items": [], "next": None}
    assert other.get("contacts", {"q": "zhangwei"}).json()["items"] == []
    found = other.get("search", {"q": "zw"}).json()
    assert found == {"accounts": [], "contacts": [], "counts": {"accounts": 0, "contacts": 0}}
    # Bulk actions silently skip what the actor may not edit.
    r = other.post("accounts/bulk-assign", {"ids": [account.pk], "owner_id": other_id(api, "rep_b")})
    assert r.json() == {"count": 0}
    assert other.post("contacts/bulk-tag", {"ids": [contact.pk], "tags": ["x"]}).json() == {"count": 0}
    account.refresh_from_db()
    contact.refresh_from_db()
    assert (account.name, account.version, contact.name, list(contact.tags.all())) == (
        "北京星辰医疗科技有限公司", 1, "张伟", [])
    # The manager of team A sees it; the admin too.
    assert api["manager_a"].get(f"contacts/{contact.pk}").status_code == 200
    assert api["admin"].get(f"accounts/{account.pk}").status_code == 200


def other_id(api, name):
    return api[name].get("users/me").json()["id"]


def test_links_to_accounts_the_user_cannot_see_are_hidden(api, users, zhang):
    account, contact = zhang
    services.bulk_assign(users["admin"], "account", [account.pk], users["rep_b"].pk)
    item = api["rep_a"].get(f"contacts/{contact.pk}").json()
    assert item["account_ids"] == [] and item["primary_account"] is None
    child = services.create_account(users["rep_a"], {"name": "子公司"})
    Account.objects.filter(pk=child.pk).update(parent=account)
    assert api["rep_a"].get(f"accounts/{child.pk}").json()["parent"] is None
    assert api["admin"].get(f"accounts/{child.pk}").json()["parent"] == {"id": account.pk, "name": account.name}


def test_read_only_role_is_403_on_every_write(api, users, zhang):
    account, contact = zhang
    viewer = api["viewer"]
    assert viewer.get(f"accounts/{account.pk}").status_code == 200
    assert viewer.get(f"contacts/{contact.pk}").status_code == 200
    writes = [
        viewer.post("accounts", {"name": "新公司"}),
        viewer.post("contacts", {"name": "新人"}),
        viewer.patch(f"accounts/{account.pk}", {"version": 1, "name": "改名"}),
        viewer.patch(f"contacts/{contact.pk}", {"version": 1, "name": "改名"}),
        viewer.delete(f"accounts/{account.pk}"),
        viewer.delete(f"contacts/{contact.pk}"),
        viewer.post(f"accounts/{account.pk}/notes", {"body": "hi"}),
        viewer.post("accounts/bulk-tag", {"ids": [account.pk], "tags": ["x"]}),
        viewer.post("contacts/bulk-assign", {"ids": [contact.pk], "owner_id": users["viewer"].pk}),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert all(r.json()["detail"] for r in writes)
    assert Account.objects.count() == 1 and Contact.objects.count() == 1
    account.refresh_from_db()
    assert account.name == "北京星辰医疗科技有限公司"


# ------------------------------------------------------------------ filters, paging


def test_filters_and_cursor_paging(api, users, spend_field):
    rep = users["rep_a"]
    for i, (cls, spend) in enumerate([("A", "1200.50"), ("B", "90"), ("A", "15000"), ("C", None), ("A", "5")]):
        services.create_account(rep, {"name": f"测试公司{i}", "classification": cls,
                                      "tags": ["重点"] if i % 2 == 0 else [], "custom": {"spend": spend}})
    services.create_account(users["rep_b"], {"name": "别人的公司", "classification": "A", "tags": ["重点"]})
    client = api["rep_a"]

    def names(params):
        r = client.get("accounts", params)
        assert r.status_code == 200, r.json()
        return sorted(a["name"] for a in r.json()["items"])

    assert names({"classification": "A"}) == ["测试公司0", "测试公司2", "测试公司4"]
    assert names({"classification": ["B", "C"]}) == ["测试公司1", "测试公司3"]
    assert names({"tag": "重点", "custom.spend__gte": "1000"}) == ["测试公司0", "测试公司2"]
    assert names({"owner": "me", "q": "测试公司1"}) == ["测试公司1"]
    assert names({"owner": str(users["rep_b"].pk)}) == []
    r = client.get("accounts", {"classification": "Z", "custom.spend__gte": "lots", "custom.nope": "1"})
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"classification", "custom.spend__gte", "custom.nope"}

    for sort in ("name", "-updated_at", "-id"):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get("accounts", params).json()
            assert len(page["items"]) <= 2
            seen += [a["name"] for a in page["items"]]
            cursor = page["next"]
            if not cursor:
                break
        assert sorted(seen) == [f"测试公司{i}" for i in range(5)] and len(set(seen)) == 5, sort
    # Filters and paging combine.
    first = client.get("accounts", {"classification": "A", "sort": "name", "limit": 2}).json()
    rest = client.get("accounts", {"classification": "A", "sort": "name", "limit": 2, "cursor": first["next"]}).json()
    assert [a["name"] for a in first["items"] + rest["items"]] == ["测试公司0", "测试公司2", "测试公司4"]
    assert rest["next"] is None


def test_contacts_filter_by_account(api, users, zhang):
    account, contact = zhang
    services.create_contact(users["rep_a"], {"name": "王芳"})
    r = api["rep_a"].get("contacts", {"account": account.pk})
    assert [c["id"] for c in r.json()["items"]] == [contact.pk]


@pytest.fixture
def fifty_of_each(users):
    rep = users["rep_a"]
    parent = services.create_account(rep, {"name": "集团总部"})
    for i in range(50):
        account = services.create_account(rep, {
            "name": f"公司{i:02d}", "parent_id": parent.pk, "tags": ["重点", f"t{i % 3}"],
            "addresses": [{"province": "广东省", "city": "深圳市", "street": f"科技路{i}号"}]})
        services.create_contact(rep, {"name": f"联系人{i:02d}", "account_ids": [account.pk, parent.pk],
                                      "phones": [f"138 0013 {8000 + i}"], "emails": [f"p{i}@example.com"],
                                      "tags": ["重点"], "addresses": ["北京市朝阳区建国路88号"]})


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "admin"])
@pytest.mark.parametrize("path, params, at_most", [("accounts", {}, 12), ("contacts", {}, 12),
                                                   ("search", {"q": "0"}, 24)])
def test_lists_run_a_constant_number_of_queries(api, fifty_of_each, django_assert_max_num_queries, who, path,
                                                params, at_most):
    client = api[who]
    client.get("users/me")  # the token's last-used time is written once, not on every request
    with django_assert_max_num_queries(at_most) as few:
        assert client.get(path, params | {"limit": 2}).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = client.get(path, params | {"limit": 50})
    assert r.status_code == 200
    rows = r.json()["items"] if path != "search" else r.json()["accounts"] + r.json()["contacts"]
    assert len(rows) >= 50
    assert all(row["owner"] and row["tags"] and row["addresses"] for row in rows)
    assert all(row["parent"] for row in rows if "parent" in row and row["name"] != "集团总部")
    assert all(len(row["account_ids"]) == 2 and row["primary_account"] and row["phones"] for row in rows
               if "phones" in row)


# ------------------------------------------------------------------ search, notes, timeline, bulk


@pytest.mark.parametrize("query", ["zw", "zhangwei", "张伟", "138 0013 8000", "+86 13800138000",
                                   "zhang.wei@xingchen.cn"])
def test_search_finds_a_contact_by_pinyin_phone_or_email(api, zhang, query):
    _account, contact = zhang
    r = api["rep_a"].get("search", {"q": query})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["contacts"]] == [contact.pk]
    assert r.json()["counts"]["contacts"] == 1
    assert [c["id"] for c in api["rep_a"].get("contacts", {"q": query}).json()["items"]] == [contact.pk]
    assert api["rep_b"].get("search", {"q": query}).json()["counts"] == {"accounts": 0, "contacts": 0}


def test_search_finds_accounts_too(api, zhang):
    account, _contact = zhang
    r = api["rep_a"].get("search", {"q": "星辰医疗"}).json()
    assert [a["id"] for a in r["accounts"]] == [account.pk]
    assert api["rep_a"].get("search", {"q": ""}).status_code == 400


def test_notes_show_on_the_timeline(api, zhang):
    account, contact = zhang
    rep = api["rep_a"]
    r = rep.post(f"contacts/{contact.pk}/notes", {"body": "  喜欢喝茶  "})
    assert r.status_code == 201 and r.json()["body"] == "喜欢喝茶" and r.json()["contact_id"] == contact.pk
    r = rep.post(f"contacts/{contact.pk}/notes", {"body": "   "})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"body"}
    timeline = rep.get(f"contacts/{contact.pk}/timeline").json()
    assert [i["kind"] for i in timeline["items"]] == ["note", "change"]
    assert timeline["items"][0]["body"] == "喜欢喝茶" and timeline["items"][0]["actor"]["name"] == "rep_a"
    assert timeline["next"] is None
    older = rep.get(f"contacts/{contact.pk}/timeline", {"limit": 1}).json()
    assert len(older["items"]) == 1 and older["next"]
    assert [i["kind"] for i in rep.get(f"contacts/{contact.pk}/timeline",
                                       {"before": older["next"]}).json()["items"]] == ["change"]
    assert [n["body"] for n in rep.get(f"contacts/{contact.pk}/notes").json()["items"]] == ["喜欢喝茶"]
    assert rep.get(f"accounts/{account.pk}/notes").json()["items"] == []


def test_bulk_assign_and_tag(api, users, zhang):
    account, contact = zhang
    other = services.create_account(users["rep_a"], {"name": "另一家"})
    admin = api["admin"]
    r = admin.post("accounts/bulk-assign", {"ids": [account.pk, other.pk], "owner_id": users["rep_a2"].pk})
    assert r.status_code == 200 and r.json() == {"count": 2}
    assert admin.get(f"accounts/{account.pk}").json()["owner"]["id"] == users["rep_a2"].pk
    r = admin.post("contacts/bulk-tag", {"ids": [contact.pk], "tags": ["VIP", "华北"]})
    assert r.json() == {"count": 1}
    assert admin.get(f"contacts/{contact.pk}").json()["tags"] == ["VIP", "华北"]
    assert admin.post("contacts/bulk-tag", {"ids": [contact.pk], "tags": []}).status_code == 400
    # A rep may only assign to themselves.
    r = api["rep_a"].post("contacts/bulk-assign", {"ids": [contact.pk], "owner_id": users["rep_b"].pk})
    assert r.status_code == 400 and "owner_id" in r.json()["errors"]
