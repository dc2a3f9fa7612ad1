"""Personal-data requests (PIPL / GDPR): the export holds everything about one person and nothing of anyone
else; erasure anonymises in place, keeps the row, its links and other people's records, and is idempotent."""

import json

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from guanxi.activities.services import add_note
from guanxi.core.models import CustomField, FieldType, Share
from guanxi.core.people_services import share_record
from guanxi.core.records import audit_trail
from guanxi.core.search import matching
from guanxi.core.services import issue_token
from guanxi.customers import services
from guanxi.customers.models import Account, Address, Contact, ContactMethod
from guanxi.customers.privacy import ERASED, erase_person, erased_name, export_person

PASSWORD = "correct-horse-9"


@pytest.fixture
def person(zhang, users):
    """张伟 with every kind of data, and 李娜 at the same company with her own."""
    account, contact = zhang
    rep = users["rep_a"]
    CustomField.objects.create(model="contact", key="wechat", label_zh="微信", label_en="WeChat",
                               field_type=FieldType.TEXT)
    contact = services.update_contact(rep, contact, {
        "department": "采购部", "birthday": "1985-03-02", "marketing_consent": True, "description": "爱喝茶",
        "custom": {"wechat": "zhangwei_85"}, "tags": ["VIP", "北京"],
        "phones": ["138 0013 8000", {"value": "010-6552 9988", "label": "办公"}],
    }, version=contact.version)
    # Made directly: an "addresses" change in the audit trail trips core/ui.py's ChangeDescriber (reported).
    Address.objects.create(contact=contact, province="北京市", city="北京市", district="朝阳区", street="建国路88号")
    add_note(rep, contact, "张伟下周去上海出差")
    share_record(rep, contact, user=users["rep_b"])
    other = services.create_contact(rep, {"name": "李娜", "account_ids": [account.pk], "phones": ["139 1111 2222"],
                                          "emails": ["li.na@xingchen.cn"], "tags": ["VIP"]})
    add_note(rep, other, "李娜负责财务")
    add_note(rep, account, "公司年会在十二月")
    return account, contact, other


def _text(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def test_export_holds_every_kind_of_data_and_nothing_of_another_person(person, users):
    account, contact, _other = person
    data = export_person(users["rep_a"], contact)
    assert data["contact"]["name"] == "张伟"
    assert data["contact"]["title"] == "采购经理" and data["contact"]["department"] == "采购部"
    assert data["contact"]["birthday"] == "1985-03-02" and data["contact"]["marketing_consent"] is True
    assert data["custom"] == {"wechat": "zhangwei_85"}
    assert [(p["value"], p["normalized"], p["label"]) for p in data["phones"]] == [
        ("138 0013 8000", "+8613800138000", ""), ("010-6552 9988", "+861065529988", "办公")]
    assert [e["normalized"] for e in data["emails"]] == ["zhang.wei@xingchen.cn"]
    assert data["addresses"][0]["street"] == "建国路88号"
    assert data["tags"] == ["VIP", "北京"]
    assert data["accounts"] == [{"id": account.pk, "name": "北京星辰医疗科技有限公司"}]
    assert any(i["kind"] == "note" and i["body"] == "张伟下周去上海出差" for i in data["timeline"])
    assert {e["action"] for e in data["audit"]} >= {"create", "update"}
    assert data["shares"] == [{"user": str(users["rep_b"]), "team": None}]
    text = _text(data)
    for foreign in ("李娜", "1391111", "139 1111", "li.na", "负责财务", "年会"):
        assert foreign not in text
    # The export itself is on the record's audit trail.
    assert audit_trail(contact).first().changes == {"personal_data_exported": [None, "json"]}


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("rep_a", 200), ("manager_a", 200),
                                              ("rep_b", 404), ("viewer", 403)])
def test_export_permissions_in_ui_and_api(person, users, who, status):
    _account, contact, _other = person
    Share.objects.all().delete()  # rep_b sees nothing of team a's contact
    client = Client()
    client.force_login(users[who])
    response = client.get(f"/contacts/{contact.pk}/personal-data.json")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Disposition"].startswith("attachment;")
        assert json.loads(response.content)["contact"]["name"] == "张伟"
    api = Client(headers={"Authorization": f"Bearer {issue_token(users[who])}"})
    response = api.get(f"/api/v1/contacts/{contact.pk}/personal-data")
    assert response.status_code == status
    if status == 200:
        assert response.json()["phones"][0]["normalized"] == "+8613800138000"
    else:
        assert "detail" in response.json()


def test_erasure_anonymises_in_place_and_leaves_others_intact(person, users):
    account, contact, other = person
    other_before = (other.name, other.phone, other.email, other.search_text, other.version)
    erased = erase_person(users["admin"], contact, "本人依《个人信息保护法》申请删除 (ticket 42)")
    contact = Contact.objects.get(pk=contact.pk)
    assert erased.pk == contact.pk
    assert contact.name == erased_name(contact.pk) and f"#{contact.pk}" in contact.name
    if settings.LANGUAGE_CODE == "zh-hans":
        assert contact.name == f"已删除的联系人 #{contact.pk}"
    assert (contact.title, contact.department, contact.description, contact.phone, contact.email) == ("",) * 5
    assert contact.birthday is None and contact.custom == {} and contact.marketing_consent is False
    assert not ContactMethod.objects.filter(contact=contact).exists()
    assert not Address.objects.filter(contact=contact).exists()
    assert not contact.tags.exists()
    assert "张伟" not in contact.notes.get().body
    # Links and aggregates stay.
    assert contact.primary_account == account
    assert account.contacts.count() == 2
    # Nobody finds the person by what identified them.
    everything = Contact.objects.visible_to(users["admin"])
    for query in ("张伟", "zhangwei", "138 0013 8000", "+86 10 6552 9988", "zhang.wei@xingchen"):
        assert not matching(everything, query).exists(), query
    # The other person at the same company, her notes and the account's notes are untouched.
    other.refresh_from_db()
    assert (other.name, other.phone, other.email, other.search_text, other.version) == other_before
    assert list(matching(everything, "李娜")) == [other]
    assert other.notes.get().body == "李娜负责财务" and account.notes.get().body == "公司年会在十二月"
    assert other.tags.filter(name="VIP").exists()
    account.refresh_from_db()
    assert account.name == "北京星辰医疗科技有限公司"


def test_erasure_rewrites_the_audit_trail_and_is_idempotent(person, users):
    _account, contact, _other = person
    entries_before = {e.pk: (e.actor_id, e.at, e.action, sorted(e.changes)) for e in audit_trail(contact)}
    erase_person(users["admin"], contact, "PIPL request 42")
    trail = list(audit_trail(contact))
    marker = trail[0]
    assert marker.changes["erased"] == [None, "PIPL request 42"]
    assert marker.actor == users["admin"]
    for entry in trail[1:]:  # who, when and which field stay; the values go
        assert (entry.actor_id, entry.at, entry.action, sorted(entry.changes)) == entries_before[entry.pk]
        assert entry.object_repr == erased_name(contact.pk)
    text = _text([e.changes for e in trail])
    for personal in ("张伟", "采购", "13800138000", "zhang.wei", "zhangwei_85", "建国路", "1985"):
        assert personal not in text, personal
    assert ERASED in text
    create = next(e for e in trail if e.action == "create")
    assert create.changes["name"] == [None, ERASED]
    # Again: nothing more changes, no second marker.
    contact = Contact.objects.get(pk=contact.pk)
    state = (contact.name, contact.version, contact.search_text)
    erase_person(users["admin"], contact, "PIPL request 42")
    contact.refresh_from_db()
    assert (contact.name, contact.version, contact.search_text) == state
    assert [e.pk for e in audit_trail(contact)] == [e.pk for e in trail]


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "viewer"])
def test_erasure_is_for_administrators_only(person, users, who):
    _account, contact, _other = person
    with pytest.raises(PermissionDenied):
        erase_person(users[who], contact, "because")
    contact.refresh_from_db()
    assert contact.name == "张伟"
    client = Client()
    client.force_login(users[who])
    assert client.get(f"/contacts/{contact.pk}/erase/").status_code == 403
    api = Client(headers={"Authorization": f"Bearer {issue_token(users[who])}"})
    response = api.post(f"/api/v1/contacts/{contact.pk}/erase", {"reason": "x"}, content_type="application/json")
    assert response.status_code == 403


def test_erasure_needs_a_reason(person, users):
    _account, contact, _other = person
    with pytest.raises(ValidationError) as err:
        erase_person(users["admin"], contact, "  ")
    assert set(err.value.message_dict) == {"reason"}
    api = Client(headers={"Authorization": f"Bearer {issue_token(users['admin'])}"})
    for body in ({}, {"reason": ""}):
        response = api.post(f"/api/v1/contacts/{contact.pk}/erase", body, content_type="application/json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"reason"}
    contact.refresh_from_db()
    assert contact.name == "张伟"
    response = api.post(f"/api/v1/contacts/{contact.pk}/erase", {"reason": "request 7"},
                        content_type="application/json")
    assert response.status_code == 200
    assert response.json()["name"] == erased_name(contact.pk)


def test_confirmation_page_refuses_a_wrong_name(person, users):
    _account, contact, _other = person
    client = Client()
    client.force_login(users["admin"])
    page = client.get(f"/contacts/{contact.pk}/")
    assert f"/contacts/{contact.pk}/erase/" in page.content.decode()
    assert client.get(f"/contacts/{contact.pk}/erase/").status_code == 200
    response = client.post(f"/contacts/{contact.pk}/erase/", {"name": "李娜", "reason": "request 7"})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    response = client.post(f"/contacts/{contact.pk}/erase/", {"name": "张伟", "reason": ""})
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.name == "张伟"
    response = client.post(f"/contacts/{contact.pk}/erase/", {"name": "张伟", "reason": "request 7"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == erased_name(contact.pk)


def test_detail_page_hides_erase_from_non_administrators(person, users):
    _account, contact, _other = person
    client = Client()
    client.force_login(users["rep_a"])
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert f"/contacts/{contact.pk}/personal-data.json" in html
    assert f"/contacts/{contact.pk}/erase/" not in html
    assert Account.objects.count() == 1
