import pytest
from django.core.exceptions import ValidationError

from guanxi.core.models import AuditEntry
from guanxi.core.records import EditConflict, audit_trail
from guanxi.core.search import matching
from guanxi.customers import services
from guanxi.customers.models import Account, Contact


def test_contact_is_normalised_and_linked(zhang):
    account, contact = zhang
    assert contact.phone == "+8613800138000"
    assert contact.email == "zhang.wei@xingchen.cn"
    assert contact.primary_account == account
    assert [m.value for m in contact.methods.all()] == ["138 0013 8000", "Zhang.Wei@Xingchen.CN"]


def test_bad_input_names_fields_and_stores_nothing(users):
    with pytest.raises(ValidationError) as err:
        services.create_contact(users["rep_a"], {"name": "", "phones": ["call me"], "emails": ["nope@"],
                                                 "preferred_channel": "pigeon"})
    assert set(err.value.message_dict) == {"name", "phones.0", "emails.0", "preferred_channel"}
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("query", ["zw", "zhangwei", "张伟", "张", "138 0013 8000", "+86 13800138000",
                                   "zhang.wei@xingchen", "Zhang Wei"])
def test_search_finds_zhang_wei(zhang, users, query):
    _account, contact = zhang
    found = matching(Contact.objects.visible_to(users["rep_a"]), query)
    assert list(found) == [contact]


def test_search_respects_visibility(zhang, users):
    assert not matching(Contact.objects.visible_to(users["rep_b"]), "zhangwei").exists()
    assert matching(Contact.objects.visible_to(users["manager_a"]), "zhangwei").exists()
    assert matching(Account.objects.visible_to(users["admin"]), "星辰医疗").exists()


def test_update_is_audited_and_versioned(zhang, users):
    _account, contact = zhang
    rep = users["rep_a"]
    updated = services.update_contact(rep, contact, {"title": "总经理"}, version=1)
    assert updated.version == 2
    entry = audit_trail(contact).first()
    assert entry.action == "update"
    assert entry.changes == {"title": ["采购经理", "总经理"]}
    with pytest.raises(EditConflict):
        services.update_contact(rep, contact, {"title": "董事长"}, version=1)
    contact.refresh_from_db()
    assert contact.title == "总经理"
    assert AuditEntry.objects.filter(action="update").count() == 1


def test_search_follows_an_edit(zhang, users):
    _account, contact = zhang
    services.update_contact(users["rep_a"], contact, {"name": "李娜"}, version=1)
    qs = Contact.objects.visible_to(users["rep_a"])
    assert not matching(qs, "zhangwei").exists()
    assert matching(qs, "lina").exists()


def test_control_characters_never_reach_the_database(zhang, users):
    qs = Contact.objects.visible_to(users["rep_a"])
    assert list(matching(qs, "zhang\x00wei")) == list(matching(qs, "zhangwei"))
    contact = services.create_contact(users["rep_a"], {"name": "王\x00芳"})
    assert contact.name == "王芳"


def test_ids_beyond_64_bits_are_field_errors(users):
    with pytest.raises(ValidationError) as err:
        services.create_contact(users["rep_a"], {"name": "李雷", "account_ids": [2**70]})
    assert "account_ids" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.create_account(users["rep_a"], {"name": "某公司", "parent_id": 2**70})
    assert "parent_id" in err.value.message_dict


def test_consent_time_is_set_only_when_consent_changes(users):
    rep = users["rep_a"]
    silent = services.create_contact(rep, {"name": "赵磊"})
    assert silent.consent_changed_at is None
    given = services.create_contact(rep, {"name": "周敏", "marketing_consent": True})
    assert given.consent_changed_at is not None
    again = services.update_contact(rep, given, {"marketing_consent": True, "title": "经理"}, version=1)
    assert again.consent_changed_at == given.consent_changed_at
    withdrawn = services.update_contact(rep, again, {"marketing_consent": False}, version=2)
    assert withdrawn.consent_changed_at > given.consent_changed_at
