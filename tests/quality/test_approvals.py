"""Field rules (required, pattern, sensitive) and change approval, on the services, the web UI and the API.

A rep's change to a sensitive field waits as a change request while the rest of the same edit is saved;
an approver (administrator, or the manager of the record's team) accepts it — applied as reviewed, or
refused when the field changed since — or rejects it; both audit entries are linked to the request."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from guanxi.core.customfield_services import create_custom_field
from guanxi.core.models import AuditAction, AuditEntry
from guanxi.core.people_services import share_record
from guanxi.core.records import audit_trail
from guanxi.customers import services as customers
from guanxi.customers.models import Account, Contact
from guanxi.quality import approvals, field_rules
from guanxi.quality.approval_models import ChangeRequest, FieldRule, RequestStatus
from guanxi.quality.services import merge_records


def rules(admin, kind, *items):
    return field_rules.save_rules(admin, kind, list(items))


@pytest.fixture
def sensitive(users):
    """Accounts: owner, name and a credit limit are sensitive; rep_a owns 星辰医疗."""
    create_custom_field(users["admin"], {"model": "account", "key": "credit_limit", "label_zh": "信用额度",
                                         "label_en": "Credit limit", "field_type": "number"})
    rules(users["admin"], "account", {"field": "owner", "sensitive": True}, {"field": "name", "sensitive": True},
          {"field": "custom.credit_limit", "sensitive": True})
    return customers.create_account(users["rep_a"], {"name": "星辰医疗", "industry": "healthcare",
                                                     "custom": {"credit_limit": 50000}})


# ------------------------------------------------------------------ required fields and patterns


def test_required_fields_apply_on_create_and_when_cleared(users):
    admin, rep = users["admin"], users["rep_a"]
    rules(admin, "contact", {"field": "email", "required": True}, {"field": "accounts", "required": True})
    with pytest.raises(ValidationError) as exc:
        customers.create_contact(rep, {"name": "李娜", "phones": ["13800138000"]})
    assert set(exc.value.message_dict) == {"emails", "account_ids"}
    assert not Contact.objects.filter(name="李娜").exists()

    account = customers.create_account(rep, {"name": "华信物流"})
    contact = customers.create_contact(rep, {"name": "李娜", "emails": ["li.na@huaxin.cn"],
                                             "account_ids": [account.pk]})
    # An edit that leaves the required fields alone is fine; one that empties them is refused.
    contact = customers.update_contact(rep, contact, {"title": "经理"}, contact.version)
    with pytest.raises(ValidationError) as exc:
        customers.update_contact(rep, contact, {"emails": []}, contact.version)
    assert list(exc.value.message_dict) == ["emails"]
    assert Contact.objects.get(pk=contact.pk).email == "li.na@huaxin.cn"


def test_a_pattern_checks_the_normalised_value_with_the_administrators_message(users):
    rules(users["admin"], "contact", {"field": "phone", "pattern": r"\+86\d{11}", "message": "只收中国手机号"},
          {"field": "title", "pattern": r"[^0-9]*"})
    rep = users["rep_a"]
    with pytest.raises(ValidationError) as exc:
        customers.create_contact(rep, {"name": "Tom", "phones": ["+44 20 7946 0958"], "title": "Buyer 2"})
    assert exc.value.message_dict["phones"] == ["只收中国手机号"]
    assert "title" in exc.value.message_dict
    contact = customers.create_contact(rep, {"name": "Tom", "phones": ["138 0013 8000"], "title": "Buyer"})
    assert contact.phone == "+8613800138000"


def test_account_rules_and_bad_rules_are_refused_with_nothing_saved(users):
    admin = users["admin"]
    rules(admin, "account", {"field": "industry", "required": True})
    with pytest.raises(ValidationError) as exc:
        customers.create_account(users["rep_a"], {"name": "无行业公司"})
    assert list(exc.value.message_dict) == ["industry"]

    with pytest.raises(ValidationError) as exc:
        rules(admin, "account", {"field": "website", "pattern": "([a-z"}, {"field": "owner", "required": True},
              {"field": "no_such_field", "sensitive": True}, {"field": "industry", "pattern": "x"})
    assert set(exc.value.message_dict) == {"rules.0.pattern", "rules.1.required", "rules.2.field", "rules.3.pattern"}
    assert list(FieldRule.objects.values_list("field", "required")) == [("industry", True)]  # unchanged
    with pytest.raises(PermissionDenied):
        rules(users["manager_a"], "account", {"field": "name", "sensitive": True})


# ------------------------------------------------------------------ change requests


def test_a_reps_change_to_sensitive_fields_waits_while_the_rest_is_saved(users, sensitive):
    rep, manager = users["rep_a"], users["manager_a"]
    account = customers.update_account(rep, sensitive, {"name": "星辰医疗科技", "website": "xingchen.cn",
                                                        "custom": {"credit_limit": 900000}}, sensitive.version)
    fresh = Account.objects.get(pk=sensitive.pk)
    assert (fresh.name, fresh.website, fresh.custom) == ("星辰医疗", "xingchen.cn", {"credit_limit": 50000})
    request = account.change_request
    assert request.status == RequestStatus.PENDING
    assert request.changes == {"name": ["星辰医疗", "星辰医疗科技"], "custom.credit_limit": [50000, 900000]}
    # The audit trail: the saved part, then the request, linked both ways.
    update, asked = sorted(audit_trail(fresh).filter(action__in=["update", "request"]), key=lambda e: e.pk)
    assert update.changes == {"website": ["", "xingchen.cn"]}
    assert asked.action == AuditAction.REQUEST and asked.change_request_id == request.pk
    assert request.request_entry_id == asked.pk

    accepted = approvals.accept_request(manager, request.pk)
    fresh = Account.objects.get(pk=sensitive.pk)
    assert (fresh.name, fresh.custom["credit_limit"]) == ("星辰医疗科技", 900000)
    assert accepted.status == RequestStatus.ACCEPTED and accepted.decided_by == manager
    decision = AuditEntry.objects.get(pk=accepted.decision_entry_id)
    assert decision.action == AuditAction.APPROVE and decision.actor == manager
    assert decision.change_request_id == request.pk and decision.changes["name"] == ["星辰医疗", "星辰医疗科技"]
    with pytest.raises(ValidationError):  # decided once
        approvals.reject_request(manager, request.pk)


def test_approvers_change_sensitive_fields_directly(users, sensitive):
    account = customers.update_account(users["manager_a"], sensitive, {"name": "星辰集团"}, sensitive.version)
    assert account.change_request is None
    assert Account.objects.get(pk=sensitive.pk).name == "星辰集团"
    assert not ChangeRequest.objects.exists()


def test_an_edit_that_only_touches_sensitive_fields_saves_nothing_else(users, sensitive):
    rep = users["rep_a"]
    account = customers.update_account(rep, sensitive, {"name": "星辰"}, sensitive.version)
    assert account.change_request is not None
    assert Account.objects.get(pk=sensitive.pk).version == sensitive.version  # untouched
    # Sending the current value of a sensitive field is no change and asks nothing.
    account = customers.update_account(rep, account, {"name": "星辰医疗", "website": "a.cn"}, account.version)
    assert account.change_request is None and ChangeRequest.objects.count() == 1


def test_acceptance_is_refused_when_the_field_changed_since(users, sensitive):
    rep, admin = users["rep_a"], users["admin"]
    request = customers.update_account(rep, sensitive, {"name": "星辰二号"}, sensitive.version).change_request
    current = Account.objects.get(pk=sensitive.pk)
    customers.update_account(admin, current, {"name": "星辰总部"}, current.version)
    with pytest.raises(ValidationError) as exc:
        approvals.accept_request(admin, request.pk)
    assert list(exc.value.message_dict) == ["name"]
    assert Account.objects.get(pk=sensitive.pk).name == "星辰总部"
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING

    rejected = approvals.reject_request(admin, request.pk, "名称已统一")
    assert (rejected.status, rejected.reason) == (RequestStatus.REJECTED, "名称已统一")
    assert AuditEntry.objects.get(pk=rejected.decision_entry_id).action == AuditAction.REJECT


def test_who_may_see_decide_and_withdraw(users, sensitive):
    rep = users["rep_a"]
    request = customers.update_account(rep, sensitive, {"name": "星辰新"}, sensitive.version).change_request
    assert list(approvals.visible_requests(rep)) == [request]
    assert list(approvals.visible_requests(users["manager_a"])) == [request]
    assert not approvals.visible_requests(users["rep_b"]).exists()
    with pytest.raises(PermissionDenied):
        approvals.accept_request(rep, request.pk)
    with pytest.raises(PermissionDenied):
        approvals.withdraw_request(users["admin"], request.pk)
    withdrawn = approvals.withdraw_request(rep, request.pk)
    assert withdrawn.status == RequestStatus.WITHDRAWN
    assert Account.objects.get(pk=sensitive.pk).name == "星辰医疗"


def test_taking_over_records_with_a_sensitive_owner_asks_per_record(users, sensitive):
    """rep_a2 shares two accounts with rep_a, who takes them over in bulk: each move waits for approval."""
    rep, colleague = users["rep_a"], users["rep_a2"]
    mine = [customers.create_account(colleague, {"name": n}) for n in ("华信物流", "东方贸易")]
    for account in mine:
        share_record(colleague, account, user=rep)
    moved = customers.bulk_assign(rep, "account", [a.pk for a in mine], rep.pk)
    assert moved == 0
    assert set(Account.objects.filter(pk__in=[a.pk for a in mine]).values_list("owner_id", flat=True)) == {
        colleague.pk}
    requests = ChangeRequest.objects.filter(status=RequestStatus.PENDING)
    assert sorted(r.object_id for r in requests) == sorted(a.pk for a in mine)
    for r in requests:
        approvals.accept_request(users["admin"], r.pk)
    assert set(Account.objects.filter(pk__in=[a.pk for a in mine]).values_list("owner_id", flat=True)) == {rep.pk}


def test_a_merge_may_not_take_the_other_records_sensitive_value(users, sensitive):
    rep = users["rep_a"]
    twin = customers.create_account(rep, {"name": "星辰医疗有限公司", "industry": "healthcare"})
    with pytest.raises(ValidationError) as exc:
        merge_records(rep, "account", sensitive.pk, twin.pk, choices={"name": "merged"},
                      survivor_version=sensitive.version, merged_version=twin.version)
    assert list(exc.value.message_dict) == ["name"]
    assert Account.objects.filter(pk=twin.pk).exists()
    merge_records(users["admin"], "account", sensitive.pk, twin.pk, choices={"name": "merged"},
                  survivor_version=sensitive.version, merged_version=twin.version)
    assert Account.objects.get(pk=sensitive.pk).name == "星辰医疗有限公司"


def test_contact_phones_and_owner_as_sensitive_fields(users, zhang):
    _account, contact = zhang
    rules(users["admin"], "contact", {"field": "phone", "sensitive": True}, {"field": "owner", "sensitive": True})
    rep = users["rep_a"]
    saved = customers.update_contact(rep, contact, {"phones": ["139 0000 0000"], "title": "总监"}, contact.version)
    assert saved.title == "总监" and saved.phone == "+8613800138000"
    assert saved.change_request.changes["phones"] == [["+8613800138000"], ["+8613900000000"]]
    approvals.accept_request(users["admin"], saved.change_request.pk)
    assert Contact.objects.get(pk=contact.pk).phone == "+8613900000000"


# ------------------------------------------------------------------ web UI


def test_ui_rules_page_edit_banner_queue_and_decision(users, sensitive, django_assert_max_num_queries):
    admin_ui, rep_ui = Client(), Client()
    admin_ui.force_login(users["admin"])
    rep_ui.force_login(users["rep_a"])
    assert rep_ui.get(reverse("quality:field_rules", args=["account"])).status_code == 403
    page = admin_ui.get(reverse("quality:field_rules", args=["account"]))
    assert re.search(r'name="sensitive:custom.credit_limit"[^>]*checked', page.content.decode())
    assert not re.search(r'name="sensitive:website"[^>]*checked', page.content.decode())
    bad = admin_ui.post(reverse("quality:field_rules", args=["contact"]),
                        {"pattern:title": "(", "required:email": "on"})
    assert bad.status_code == 400 and not FieldRule.objects.filter(kind="contact").exists()
    good = admin_ui.post(reverse("quality:field_rules", args=["contact"]), {"required:email": "on"})
    assert good.status_code == 302
    assert list(FieldRule.objects.filter(kind="contact").values_list("field", "required")) == [("email", True)]

    # The rep edits the account through the form: the name waits, the website is saved.
    form = {"name": "星辰改名", "website": "xc.cn", "industry": "healthcare", "lifecycle_stage": "awareness",
            "owner_id": users["rep_a"].pk, "version": sensitive.version, "custom.credit_limit": "50000"}
    response = rep_ui.post(reverse("customers:account_edit", args=[sensitive.pk]), form, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert any(m in text for m in ("waits for approval", "等待管理员或经理审批"))  # the flash message
    assert 'id="pending-changes"' in text and "星辰改名" in text
    assert Account.objects.get(pk=sensitive.pk).website == "xc.cn"
    request = ChangeRequest.objects.get()

    for i in range(5):  # more requests must not mean more queries on the queue page
        acc = customers.create_account(users["rep_a"], {"name": f"公司{i}"})
        customers.update_account(users["rep_a"], acc, {"name": f"公司{i}改"}, acc.version)
    with django_assert_max_num_queries(12):
        queue = admin_ui.get(reverse("quality:change_requests"))
    assert queue.status_code == 200 and queue.content.decode().count('data-request="') == 6

    admin_ui.post(reverse("quality:change_request_decide", args=[request.pk, "accept"]))
    assert Account.objects.get(pk=sensitive.pk).name == "星辰改名"
    detail = admin_ui.get(reverse("customers:account_detail", args=[sensitive.pk])).content.decode()
    assert 'id="pending-changes"' not in detail
    assert reverse("quality:change_request", args=[request.pk]) in detail  # the audit trail links the request


# ------------------------------------------------------------------ REST API


def test_api_patch_202_queue_accept_and_rules(users, api, sensitive):
    path = f"accounts/{sensitive.pk}"
    held = api["rep_a"].patch(path, {"version": sensitive.version, "name": "星辰API", "website": "api.cn"})
    assert held.status_code == 202, held.content
    body = held.json()
    assert body["current"]["website"] == "api.cn" and body["current"]["name"] == "星辰医疗"
    request_id = body["change_request"]["id"]
    assert body["change_request"]["changes"] == {"name": ["星辰医疗", "星辰API"]}

    assert [r["id"] for r in api["rep_a"].get("change-requests", {"status": "pending"}).json()["items"]] == [request_id]
    assert api["rep_b"].get(f"change-requests/{request_id}").status_code == 404
    assert api["rep_a"].post(f"change-requests/{request_id}/accept").status_code == 403
    assert api["admin"].get("change-requests", {"status": "nonsense"}).status_code == 400
    accepted = api["manager_a"].post(f"change-requests/{request_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert api["rep_a"].get(path).json()["name"] == "星辰API"
    assert api["manager_a"].post(f"change-requests/{request_id}/reject", {"reason": "x"}).status_code == 400

    got = api["rep_a"].get("field-rules/account").json()
    assert {r["field"]: r["sensitive"] for r in got["rules"]}["custom.credit_limit"] is True
    body = {"rules": [{"field": "title", "pattern": "("}]}
    assert api["rep_a"]._send("put", "field-rules/contact", body).status_code == 403
    bad = api["admin"]._send("put", "field-rules/contact", body)
    assert bad.status_code == 400 and "rules.0.pattern" in bad.json()["errors"]
    ok = api["admin"]._send("put", "field-rules/contact", {"rules": [{"field": "email", "required": True}]})
    assert ok.status_code == 200
    refused = api["rep_a"].post("contacts", {"name": "没有邮箱"})
    assert refused.status_code == 400 and "emails" in refused.json()["errors"]
    assert api["admin"].get("field-rules/nonsense").status_code == 404


def test_erasing_a_person_scrubs_their_change_requests(users, zhang):
    from guanxi.customers.privacy import erase_person

    _account, contact = zhang
    rules(users["admin"], "contact", {"field": "phone", "sensitive": True})
    request = customers.update_contact(users["rep_a"], contact, {"phones": ["139 1111 2222"]},
                                       contact.version).change_request
    erase_person(users["admin"], Contact.objects.get(pk=contact.pk), "PIPL request 42")
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED and request.data == {}
    assert "+8613911112222" not in str(request.changes) and "+8613800138000" not in str(request.changes)
    entry = AuditEntry.objects.get(pk=request.request_entry_id)
    assert entry.change_request_id == request.pk and "+8613911112222" not in str(entry.changes)


# ------------------------------------------------------------------ imports


def _import(user, rows, match_key=""):
    import io

    from guanxi.customers import import_services as imports
    from guanxi.customers.import_models import Import, ImportStatus

    data = ("\n".join(",".join(r) for r in rows) + "\n").encode()
    imp = imports.upload(user, "contact", io.BytesIO(data), "contacts.csv")
    imports.set_mapping(user, imp, imp.mapping, match_key=match_key)
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.RUNNING)
    return imports, imports.run_import(imp.pk)


def test_imports_follow_required_fields_and_patterns(users, zhang, settings, tmp_path):
    settings.HOME = tmp_path
    rules(users["admin"], "contact", {"field": "email", "required": True},
          {"field": "title", "pattern": r"[^0-9]*", "message": "职位不能含数字"})
    imports, result = _import(users["rep_a"], [
        ["姓名", "邮箱", "职位", "手机"],
        ["李娜", "li.na@huaxin.cn", "经理", ""],          # fine
        ["王芳", "", "总监", "13622223333"],               # new without the required email: refused
        ["张伟", "", "采购2部", ""],                        # the title breaks the pattern
        ["张伟", "", "采购总监", "138 0013 8000"],          # an update (by phone) may leave the email out
    ], match_key="phone")
    assert (result.created, result.updated, result.rejected) == (1, 1, 2)
    assert set(Contact.objects.values_list("name", flat=True)) == {"张伟", "李娜"}
    assert Contact.objects.get(pk=zhang[1].pk).title == "采购总监"
    text = b"".join(imports.rejected_csv(result)).decode("utf-8-sig")
    assert "职位不能含数字" in text
    wang = next(line for line in text.splitlines() if line.startswith("王芳"))
    assert any(m in wang for m in ("Required for a new record", "新建记录必填"))


def test_a_reps_import_leaves_sensitive_changes_for_an_approver(users, zhang, settings, tmp_path):
    settings.HOME = tmp_path
    _account, contact = zhang
    rules(users["admin"], "contact", {"field": "name", "sensitive": True}, {"field": "phone", "sensitive": True})
    rows = [["Email", "Name", "Title", "Mobile"],
            ["zhang.wei@xingchen.cn", "张伟", "总经理", "138 0013 8000"],  # same name and phone: not a change
            ["new@example.com", "New Person", "", "13911112222"]]
    imports, result = _import(users["rep_a"], rows, match_key="email")
    assert (result.created, result.updated, result.flagged) == (1, 1, 0)
    assert Contact.objects.get(pk=contact.pk).title == "总经理"

    rows[1] = ["zhang.wei@xingchen.cn", "张大伟", "董事", "139 0000 1111"]  # renamed, a new phone: held
    imports, result = _import(users["rep_a"], rows[:2], match_key="email")
    assert (result.updated, result.flagged) == (0, 1)
    fresh = Contact.objects.get(pk=contact.pk)
    assert (fresh.name, fresh.title, fresh.phone) == ("张伟", "总经理", "+8613800138000")
    text = b"".join(imports.rejected_csv(result)).decode("utf-8-sig")
    assert "张大伟" in text and ("sensitive" in text or "敏感" in text)
    # An administrator's import of the same rows applies them.
    imports, result = _import(users["admin"], rows[:2], match_key="email")
    assert result.updated == 1 and Contact.objects.get(pk=contact.pk).name == "张大伟"
