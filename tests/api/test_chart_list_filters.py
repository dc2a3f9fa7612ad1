"""province= on GET /api/v1/accounts and marketing_consent= on GET /api/v1/contacts: the lists behind the
geography and promotion-reach charts, the same filters as the web lists."""

import pytest

from guanxi.customers import services
from guanxi.customers.models import Address


@pytest.fixture
def records(users):
    rep, other = users["rep_a"], users["rep_b"]
    canton = services.create_account(rep, {"name": "广州星辰"})
    hangzhou = services.create_account(rep, {"name": "杭州明月"})
    theirs = services.create_account(other, {"name": "深圳远航"})
    Address.objects.bulk_create([Address(account=canton, province="广东"), Address(account=canton, province="广东"),
                                 Address(account=hangzhou, province="浙江"), Address(account=theirs, province="广东")])
    yes = services.create_contact(rep, {"name": "张伟"})
    no = services.create_contact(rep, {"name": "李娜"})
    type(yes).objects.filter(pk=yes.pk).update(marketing_consent=True)
    services.create_contact(other, {"name": "王芳"})
    return {"canton": canton, "hangzhou": hangzhou, "yes": yes, "no": no}


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def test_accounts_by_province_visible_only_and_once_each(api, records):
    rep = api["rep_a"]
    assert _ids(rep.get("accounts", {"province": "广东"})) == [records["canton"].pk]
    assert sorted(_ids(rep.get("accounts", {"province": ["广东", "浙江"]}))) == sorted(
        [records["canton"].pk, records["hangzhou"].pk])
    assert _ids(rep.get("accounts", {"province": "西藏"})) == []


def test_contacts_by_marketing_consent(api, records):
    rep = api["rep_a"]
    assert _ids(rep.get("contacts", {"marketing_consent": "yes"})) == [records["yes"].pk]
    assert _ids(rep.get("contacts", {"marketing_consent": "no"})) == [records["no"].pk]
    r = rep.get("contacts", {"marketing_consent": "maybe"})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["marketing_consent"]
