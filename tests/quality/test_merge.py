"""Merging two records and undoing it: chosen values, every reference moved (notes, tags, companies, phones,
emails, addresses, shares, custom fields, audit history), nothing twice, audited on the survivor's
timeline; undo restores the exact previous state; stale versions, read-only users and edits after the
merge are refused with nothing changed."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from guanxi.activities.models import Note
from guanxi.activities.services import add_note
from guanxi.core.customfield_services import create_custom_field
from guanxi.core.models import AuditAction, AuditEntry, Share
from guanxi.core.people_services import share_record
from guanxi.core.records import EditConflict
from guanxi.customers import services as customers
from guanxi.customers.models import Account, Address, Contact, ContactMethod
from guanxi.customers.timeline import timeline_for
from guanxi.quality import services
from guanxi.quality.models import DuplicatePair, Merge, PairStatus


def state(*records) -> dict:
    """Everything about some contacts or accounts, as rows: the records and all that points at them."""
    out = {}
    for obj in records:
        model = type(obj)
        ct = ContentType.objects.get_for_model(model)
        row = model._base_manager.filter(pk=obj.pk).values().first()
        key = f"{model._meta.model_name}:{obj.pk}"
        out[key] = {
            "row": row,
            "tags": sorted(model.tags.through.objects.filter(**{f"{model._meta.model_name}_id": obj.pk})
                           .values_list("pk", "tag_id")),
            "addresses": list(Address.objects.filter(**{model._meta.model_name: obj.pk}).order_by("pk").values()),
            "notes": list(Note.objects.filter(**{model._meta.model_name: obj.pk}).order_by("pk").values()),
            "shares": list(Share.objects.filter(content_type=ct, object_id=obj.pk).order_by("pk").values()),
            "audit": sorted(AuditEntry.objects.filter(content_type=ct, object_id=obj.pk).values_list("pk", flat=True)),
        }
        if model is Contact:
            out[key]["methods"] = list(ContactMethod.objects.filter(contact=obj.pk).order_by("pk").values())
            out[key]["accounts"] = sorted(Contact.accounts.through.objects.filter(contact_id=obj.pk)
                                          .values_list("pk", "account_id"))
        else:
            out[key]["contacts"] = sorted(Contact.accounts.through.objects.filter(account_id=obj.pk)
                                          .values_list("pk", "contact_id"))
            out[key]["primary_of"] = sorted(Contact.objects.filter(primary_account=obj.pk).values_list("pk", flat=True))
    return out


@pytest.fixture
def two(users):
    """王小明 and 汪晓明, both rep_a's, each with notes, tags, a company, phones, emails, an address, a share
    and custom fields — overlapping in part."""
    rep, admin = users["rep_a"], users["admin"]
    create_custom_field(admin, {"model": "contact", "key": "wechat", "label_zh": "微信", "label_en": "WeChat",
                                "field_type": "text"})
    create_custom_field(admin, {"model": "contact", "key": "grade", "label_zh": "等级", "label_en": "Grade",
                                "field_type": "text"})
    star = customers.create_account(rep, {"name": "北京星辰医疗科技有限公司"})
    moon = customers.create_account(rep, {"name": "上海明月贸易有限公司"})
    first = customers.create_contact(rep, {
        "name": "王小明", "title": "采购经理", "phones": ["138 0013 8000"], "emails": ["wxm@xingchen.cn"],
        "account_ids": [star.pk], "tags": ["重点客户", "医院"], "addresses": ["北京市朝阳区建国路88号"],
        "custom": {"wechat": "wxm88"}})
    second = customers.create_contact(rep, {
        "name": "汪晓明", "department": "采购部", "birthday": "1980-04-09",
        "phones": ["+86 138-0013-8000", "13912345678"], "emails": ["xiaoming@moon.cn"],
        "account_ids": [star.pk, moon.pk], "tags": ["医院", "展会"],
        "addresses": ["北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号"],
        "custom": {"wechat": "wang2", "grade": "A"}})
    add_note(rep, first, "第一次拜访")
    add_note(rep, second, "电话回访，要报价")
    share_record(rep, first, user=users["rep_b"])
    share_record(rep, second, user=users["rep_b"])
    share_record(rep, second, team=users["rep_a2"].team)
    pair = DuplicatePair.objects.create(kind="contact", record_1=first.pk, record_2=second.pk, score=0.99)
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second, pair


def _merge(actor, first, second, **choices):
    return services.merge_records(actor, "contact", first.pk, second.pk, choices=choices,
                                  survivor_version=first.version, merged_version=second.version)


def test_merge_moves_everything_and_applies_the_chosen_values(two, users):
    first, second, pair = two
    merge = _merge(users["rep_a"], first, second, name="merged", phone="survivor", **{"custom.wechat": "merged"})
    kept = Contact.objects.get(pk=first.pk)
    assert not Contact.objects.filter(pk=second.pk).exists()
    assert kept.name == "汪晓明"  # chosen
    assert kept.title == "采购经理" and kept.department == "采购部"  # survivor's; the other's where empty
    assert str(kept.birthday) == "1980-04-09"
    assert kept.custom == {"wechat": "wang2", "grade": "A"}
    assert kept.version == first.version + 1
    # Phones and emails: all of them, each once, the survivor's main phone still main.
    methods = list(ContactMethod.objects.filter(contact=kept).values_list("kind", "normalized", "is_primary"))
    assert sorted(methods) == sorted([("phone", "+8613800138000", True), ("phone", "+8613912345678", False),
                                      ("email", "wxm@xingchen.cn", True), ("email", "xiaoming@moon.cn", False)])
    assert kept.phone == "+8613800138000"
    # Tags and companies: the union, no duplicate rows.
    assert sorted(kept.tags.values_list("name", flat=True)) == ["医院", "展会", "重点客户"]
    assert Contact.tags.through.objects.filter(contact=kept).count() == 3
    assert sorted(kept.accounts.values_list("name", flat=True)) == ["上海明月贸易有限公司", "北京星辰医疗科技有限公司"]
    assert Contact.accounts.through.objects.filter(contact=kept).count() == 2
    # Addresses: the shared one once, the other moved.
    assert sorted(str(a) for a in kept.addresses.all()) == ["上海市 上海市 浦东新区 世纪大道100号",
                                                           "北京市 北京市 朝阳区 建国路88号"]
    # Notes and shares moved (rep_b's two shares became one).
    notes = sorted(Note.objects.filter(contact=kept).values_list("body", flat=True))
    assert notes == ["电话回访，要报价", "第一次拜访"]
    ct = ContentType.objects.get_for_model(Contact)
    assert Share.objects.filter(content_type=ct, object_id=kept.pk).count() == 2
    assert not Share.objects.filter(content_type=ct, object_id=second.pk).exists()
    # The search finds the survivor by the merged phone.
    assert "13912345678" in kept.search_text
    # Audited on the survivor and on the pair; the merge shows on the survivor's timeline.
    entry = AuditEntry.objects.filter(content_type=ct, object_id=kept.pk, action=AuditAction.MERGE).get()
    assert entry.changes["merged_from"] == [None, f"汪晓明 (#{second.pk})"]
    assert entry.changes["name"] == ["王小明", "汪晓明"]
    assert any(item.kind == "merge" for item in timeline_for(kept, users["rep_a"]))
    pair.refresh_from_db()
    assert pair.status == PairStatus.MERGED and pair.resolved_by == users["rep_a"]
    assert AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(DuplicatePair),
                                     object_id=pair.pk, action=AuditAction.MERGE).exists()
    assert merge.merged_snapshot["name"] == "汪晓明"


def test_undo_restores_the_exact_previous_state(two, users):
    first, second, _pair = two
    before = state(first, second, *Account.objects.all())
    merge = _merge(users["rep_a"], first, second, name="merged", **{"custom.grade": "merged"})
    assert state(first) != before  # something did change
    restored = services.undo_merge(users["rep_a"], merge)
    assert restored.pk == second.pk
    after = state(first, second, *Account.objects.all())
    for key in before:
        for part in before[key]:
            if part == "audit":  # the merge and its undo are new entries; the old ones are back where they were
                assert set(before[key][part]) <= set(after[key][part]), (key, part)
            else:
                assert after[key][part] == before[key][part], (key, part)
    merge.refresh_from_db()
    assert merge.undone_by == users["rep_a"]
    assert DuplicatePair.objects.get(pk=merge.pair_id).status == PairStatus.OPEN
    with pytest.raises(ValidationError):
        services.undo_merge(users["rep_a"], merge)  # once only


def test_undo_is_refused_when_the_survivor_changed_since(two, users):
    first, second, _pair = two
    merge = _merge(users["rep_a"], first, second)
    kept = Contact.objects.get(pk=first.pk)
    customers.update_contact(users["rep_a"], kept, {"title": "总监"}, kept.version)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.undo_merge(users["rep_a"], merge)
    assert "changed after the merge" in str(refused.value)
    assert not Contact.objects.filter(pk=second.pk).exists()
    assert Contact.objects.get(pk=first.pk).title == "总监"


def test_a_stale_version_refuses_the_merge_with_nothing_changed(two, users):
    first, second, _pair = two
    before = state(first, second)
    stale = second.version
    customers.update_contact(users["rep_a"], second, {"title": "经理"}, second.version)
    before = state(first, second)
    with pytest.raises(EditConflict):
        services.merge_records(users["rep_a"], "contact", first.pk, second.pk, survivor_version=first.version,
                               merged_version=stale)
    assert state(first, second) == before
    assert not Merge.objects.exists()


def test_read_only_users_and_other_teams_cannot_merge(two, users, client):
    first, second, pair = two
    with pytest.raises(PermissionDenied):
        _merge(users["viewer"], first, second)
    with pytest.raises(Contact.DoesNotExist):  # rep_a2 sees neither record: as if they did not exist
        _merge(users["rep_a2"], first, second)
    client.force_login(users["viewer"])
    url = reverse("quality:duplicate_compare", args=[pair.pk])
    page = client.get(url)
    assert page.status_code == 200 and "merge-button" not in page.content.decode()
    assert client.post(url, {"action": "merge", "survivor": "1", "version_1": first.version,
                             "version_2": second.version}).status_code == 403
    assert Contact.objects.filter(pk=second.pk).exists()


def test_bad_choices_are_field_errors(two, users):
    first, second, _pair = two
    with pytest.raises(ValidationError) as bad:
        _merge(users["rep_a"], first, second, name="both", nonsense="merged")
    assert set(bad.value.message_dict) == {"name", "nonsense"}
    assert Contact.objects.filter(pk=second.pk).exists()


def test_merge_and_undo_in_the_ui(two, users, client):
    first, second, pair = two
    client.force_login(users["rep_a"])
    url = reverse("quality:duplicate_compare", args=[pair.pk])
    response = client.post(url, {"action": "merge", "survivor": "2", "choice.name": "1", "choice.title": "1",
                                 "version_1": first.version, "version_2": second.version})
    merge = Merge.objects.get()
    assert response.status_code == 302 and response.url == reverse("quality:merge_detail", args=[merge.pk])
    kept = Contact.objects.get(pk=second.pk)
    assert (kept.name, kept.title) == ("王小明", "采购经理")
    detail = client.get(reverse("customers:contact_detail", args=[kept.pk])).content.decode()
    assert "第一次拜访" in detail and "电话回访，要报价" in detail and 'data-kind="merge"' in detail
    response = client.post(reverse("quality:merge_undo", args=[merge.pk]))
    assert response.status_code == 302
    assert Contact.objects.get(pk=first.pk).name == "王小明"
    assert Contact.objects.get(pk=second.pk).name == "汪晓明"


def test_a_stale_form_shows_a_conflict_and_merges_nothing(two, users, client):
    first, second, pair = two
    customers.update_contact(users["rep_a"], first, {"title": "总监"}, first.version)
    client.force_login(users["rep_a"])
    response = client.post(reverse("quality:duplicate_compare", args=[pair.pk]),
                           {"action": "merge", "survivor": "1", "version_1": first.version,
                            "version_2": second.version})
    assert response.status_code == 409 and "merge-errors" in response.content.decode()
    assert Contact.objects.filter(pk=second.pk).exists() and not Merge.objects.exists()


def test_dismiss(two, users, client):
    _first, _second, pair = two
    client.force_login(users["rep_a"])
    response = client.post(reverse("quality:duplicate_compare", args=[pair.pk]), {"action": "dismiss"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == PairStatus.DISMISSED


def test_api_merge_conflict_and_undo(two, api):
    first, second, pair = two
    stale = api["rep_a"].post(f"duplicates/{pair.pk}/merge", {"survivor_id": first.pk, "survivor_version": 99,
                                                               "merged_version": second.version})
    assert stale.status_code == 409
    refused = api["viewer"].post(f"duplicates/{pair.pk}/merge", {
        "survivor_id": first.pk, "survivor_version": first.version, "merged_version": second.version})
    assert refused.status_code == 403
    bad = api["rep_a"].post(f"duplicates/{pair.pk}/merge", {"survivor_id": 1234567, "survivor_version": 1,
                                                            "merged_version": 1})
    assert bad.status_code == 400 and "survivor_id" in bad.json()["errors"]
    done = api["rep_a"].post(f"duplicates/{pair.pk}/merge", {
        "survivor_id": first.pk, "survivor_version": first.version, "merged_version": second.version,
        "choices": {"name": "merged"}})
    assert done.status_code == 200, done.content
    assert Contact.objects.get(pk=first.pk).name == "汪晓明"
    assert api["viewer"].post(f"merges/{done.json()['id']}/undo").status_code == 403
    undone = api["rep_a"].post(f"merges/{done.json()['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert Contact.objects.get(pk=second.pk).name == "汪晓明"


def test_merging_accounts_moves_contacts_subsidiaries_and_primary_links(users):
    rep = users["rep_a"]
    keep = customers.create_account(rep, {"name": "北京星辰医疗科技有限公司", "phone": "010-88886666"})
    gone = customers.create_account(rep, {"name": "北京星辰医疗科技公司", "website": "xingchen.cn",
                                          "tags": ["医院"]})
    child = customers.create_account(rep, {"name": "星辰医疗（天津）", "parent_id": gone.pk})
    both = customers.create_contact(rep, {"name": "张伟", "account_ids": [gone.pk, keep.pk]})
    only = customers.create_contact(rep, {"name": "李娜", "account_ids": [gone.pk]})
    add_note(rep, gone, "年度框架协议")
    keep.refresh_from_db()
    gone.refresh_from_db()
    before = state(keep, gone, child, both, only)
    merge = services.merge_records(rep, "account", keep.pk, gone.pk, survivor_version=keep.version,
                                   merged_version=gone.version)
    keep.refresh_from_db()
    assert keep.website == "xingchen.cn" and keep.phone == "+861088886666"
    assert Account.objects.get(pk=child.pk).parent_id == keep.pk
    assert Contact.objects.get(pk=only.pk).primary_account_id == keep.pk
    assert Contact.objects.get(pk=both.pk).primary_account_id == keep.pk
    assert Contact.accounts.through.objects.filter(contact_id=both.pk).count() == 1
    assert list(keep.tags.values_list("name", flat=True)) == ["医院"]
    assert Note.objects.filter(account=keep).count() == 1
    services.undo_merge(rep, merge)
    after = state(keep, gone, child, both, only)
    for key in before:
        for part in before[key]:
            if part != "audit":
                assert after[key][part] == before[key][part], (key, part)
