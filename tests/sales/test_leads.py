"""Leads: assignment rules (round-robin, by region, by industry), qualification, and conversion into account +
contact + opportunity without retyping, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Account, Contact
from guanxi.sales import assignment, lead_services
from guanxi.sales.models import Lead, LeadAssignmentRule, LeadStatus, Opportunity

# ------------------------------------------------------------------ the pure assignment module


def test_round_robin_takes_turns_and_skips_inactive_members():
    rule = assignment.Rule(id=1, members=[10, 20, 30])
    seen = []
    last = None
    for _ in range(6):
        choice = assignment.pick([assignment.Rule(id=1, members=rule.members, last_user_id=last)], {}, {10, 20, 30})
        seen.append(choice.user_id)
        last = choice.user_id
    assert seen == [10, 20, 30, 10, 20, 30]
    # 20 leaves: after 10 comes 30; a last user no longer in the rule restarts at the first eligible member.
    assert assignment.pick([assignment.Rule(1, [10, 20, 30], last_user_id=10)], {}, {10, 30}).user_id == 30
    assert assignment.pick([assignment.Rule(1, [10, 20, 30], last_user_id=99)], {}, {20, 30}).user_id == 20


def test_first_matching_rule_wins_and_empty_conditions_match_anything():
    rules = [
        assignment.Rule(1, [10], provinces=frozenset({"广东省"})),
        assignment.Rule(2, [20], industries=frozenset({"healthcare"}), sources=frozenset({"website"})),
        assignment.Rule(3, [30]),
        assignment.Rule(4, [40], active=False),
    ]
    active = {10, 20, 30, 40}
    assert assignment.pick(rules, {"province": "广东省", "industry": "healthcare"}, active) == assignment.Choice(1, 10)
    assert assignment.pick(rules, {"industry": "healthcare", "source": "website"}, active).rule_id == 2
    assert assignment.pick(rules, {"industry": "healthcare", "source": "referral"}, active).rule_id == 3
    # A rule whose members are all inactive passes the lead on.
    assert assignment.pick(rules, {"province": "广东省"}, {30}).rule_id == 3
    assert assignment.pick(rules[:2], {}, active) is None


# ------------------------------------------------------------------ services


@pytest.fixture
def rules(users):
    return lead_services.save_assignment_rules(users["admin"], [
        {"name": "华南", "provinces": ["广东省"], "member_ids": [users["rep_b"].pk]},
        {"name": "其他", "member_ids": [users["rep_a"].pk, users["rep_a2"].pk]},
    ])


def test_rules_assign_new_leads_by_region_then_in_turn(users, rules):
    admin = users["admin"]
    south = lead_services.create_lead(admin, {"name": "陈静", "company": "深圳海风贸易", "province": "广东省"},
                                      auto_assign=True)
    assert south.owner == users["rep_b"] and south.team_id == users["rep_b"].team_id
    owners = [lead_services.create_lead(admin, {"name": f"客户{i}", "phone": f"1390000000{i}"},
                                        auto_assign=True).owner.username for i in range(4)]
    assert owners == ["rep_a", "rep_a2", "rep_a", "rep_a2"]
    # An owner given by hand wins over the rules; without auto_assign the creator owns the lead.
    given = lead_services.create_lead(admin, {"name": "王芳", "company": "X", "owner_id": users["rep_b"].pk},
                                      auto_assign=True)
    assert given.owner == users["rep_b"] and given.assigned_by_rule is None
    assert lead_services.create_lead(users["rep_a"], {"name": "赵磊", "company": "Y"}).owner == users["rep_a"]


def test_rules_are_validated_and_only_administrators_change_them(users, rules):
    with pytest.raises(PermissionDenied):
        lead_services.save_assignment_rules(users["manager_a"], [])
    with pytest.raises(ValidationError) as err:
        lead_services.save_assignment_rules(users["admin"], [
            {"name": "", "member_ids": []}, {"name": "ok", "industries": ["spaceships"], "member_ids": [999999]}])
    assert set(err.value.message_dict) == {"rules.0.name", "rules.0.member_ids", "rules.1.industries",
                                           "rules.1.member_ids"}
    assert list(LeadAssignmentRule.objects.values_list("name", flat=True)) == ["华南", "其他"]  # unchanged


def test_a_lead_needs_a_way_to_reach_it_and_a_valid_phone(users):
    with pytest.raises(ValidationError) as err:
        lead_services.create_lead(users["rep_a"], {"name": "匿名"})
    assert "phone" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        lead_services.create_lead(users["rep_a"], {"name": "张三", "phone": "abc", "email": "not-an-address"})
    assert {"phone", "email"} <= set(err.value.message_dict)
    lead = lead_services.create_lead(users["rep_a"], {"name": " 张三 ", "phone": "138 0013 8000"})
    assert lead.name == "张三" and lead.phone == "+8613800138000"


def test_status_workflow_and_disqualification_reason(users):
    rep = users["rep_a"]
    lead = lead_services.create_lead(rep, {"name": "李娜", "company": "杭州云栖"})
    lead = lead_services.set_lead_status(rep, lead, "working", lead.version)
    with pytest.raises(ValidationError) as err:
        lead_services.set_lead_status(rep, lead, "disqualified", lead.version)
    assert "disqualified_reason" in err.value.message_dict
    lead = lead_services.set_lead_status(rep, lead, "disqualified", lead.version, reason="没有预算")
    assert lead.status == LeadStatus.DISQUALIFIED and lead.disqualified_reason == "没有预算"
    with pytest.raises(ValidationError):  # cannot convert a disqualified lead
        lead_services.convert_lead(rep, lead, {}, lead.version)
    with pytest.raises(ValidationError):  # nor jump to converted by hand
        lead_services.set_lead_status(rep, lead, "converted", lead.version)
    lead = lead_services.set_lead_status(rep, lead, "new", lead.version)
    assert lead.disqualified_reason == ""
    # Created, contacted, disqualified, new again.
    assert AuditEntry.objects.filter(object_id=lead.pk, content_type__model="lead").count() == 4


def test_conversion_creates_account_contact_and_opportunity_without_retyping(users, pipeline):
    rep = users["rep_a"]
    lead = lead_services.create_lead(rep, {
        "name": "周杰", "company": "成都天府软件有限公司", "title": "采购经理", "phone": "13912345678",
        "email": "Zhou.Jie@TianFu.example", "industry": "it", "source": "exhibition", "province": "四川省",
        "city": "成都市"})
    lead = lead_services.convert_lead(rep, lead, {"amount": "50000", "expected_close": "2031-06-30"}, lead.version)
    assert lead.status == LeadStatus.CONVERTED and lead.converted_at is not None
    account, contact, opp = lead.converted_account, lead.converted_contact, lead.converted_opportunity
    assert (account.name, account.industry, account.source, account.owner) == (
        "成都天府软件有限公司", "it", "exhibition", rep)
    assert account.addresses.get().province == "四川省"
    assert (contact.name, contact.title, contact.phone, contact.email) == (
        "周杰", "采购经理", "+8613912345678", "zhou.jie@tianfu.example")
    assert list(contact.accounts.all()) == [account]
    assert (opp.account, opp.contact, opp.amount, opp.pipeline) == (account, contact, Decimal("50000"), pipeline)
    with pytest.raises(ValidationError):  # once only
        lead_services.convert_lead(rep, lead, {}, lead.version)
    with pytest.raises(ValidationError):  # and no more edits
        lead_services.update_lead(rep, lead, {"name": "x"}, lead.version)


def test_conversion_onto_an_existing_account_without_an_opportunity(users, zhang):
    account, _contact = zhang
    rep = users["rep_a"]
    lead = lead_services.create_lead(rep, {"name": "孙丽", "email": "sun@xingchen.example"})
    lead = lead_services.convert_lead(rep, lead, {"account_id": account.pk, "create_opportunity": False},
                                      lead.version)
    assert lead.converted_account == account and lead.converted_opportunity is None
    assert Account.objects.count() == 1
    assert lead.converted_contact.accounts.get() == account


def test_a_failed_conversion_leaves_nothing_behind(users, account_b):
    rep = users["rep_a"]
    lead = lead_services.create_lead(rep, {"name": "吴敏", "company": "南京紫金"})
    counts = (Account.objects.count(), Contact.objects.count(), Opportunity.objects.count())
    with pytest.raises(ValidationError) as err:
        lead_services.convert_lead(rep, lead, {"amount": "-5"}, lead.version)
    assert any(k.startswith("opportunity.") for k in err.value.message_dict)
    with pytest.raises(ValidationError) as err:  # another rep's account is not there to pick
        lead_services.convert_lead(rep, lead, {"account_id": account_b.pk}, lead.version)
    assert "account_id" in err.value.message_dict
    assert (Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()) == counts
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_a_manager_converting_a_reps_lead_keeps_the_rep_as_owner(users):
    lead = lead_services.create_lead(users["rep_a"], {"name": "郑伟", "company": "武汉光谷"})
    lead = lead_services.convert_lead(users["manager_a"], lead, {}, lead.version)
    assert {lead.converted_account.owner, lead.converted_contact.owner, lead.converted_opportunity.owner} == {
        users["rep_a"]}


def test_visibility_and_read_only(users):
    lead = lead_services.create_lead(users["rep_a"], {"name": "冯晓", "company": "厦门"})
    assert list(Lead.objects.visible_to(users["rep_a"])) == [lead]
    assert list(Lead.objects.visible_to(users["manager_a"])) == [lead]
    assert not Lead.objects.visible_to(users["rep_b"]).exists()
    with pytest.raises(PermissionDenied):
        lead_services.create_lead(users["viewer"], {"name": "x", "company": "y"})
