"""Importing contacts and accounts: upload, mapping, preview, commit, match keys, duplicates, undo, resume."""

import gc
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection

from guanxi.core.models import AuditEntry, CustomField
from guanxi.core.records import audit_trail
from guanxi.core.search import matching
from guanxi.customers import import_services as imports
from guanxi.customers import services
from guanxi.customers.import_models import Import, ImportBatch, ImportStatus
from guanxi.customers.models import Account, Address, Contact, ContactMethod


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.HOME = tmp_path
    return tmp_path


def csv_bytes(rows, encoding="utf-8"):
    return ("\n".join(",".join(r) for r in rows) + "\n").encode(encoding)


def upload(user, rows, target="contact", encoding="utf-8", name="contacts.csv"):
    return imports.upload(user, target, io.BytesIO(csv_bytes(rows, encoding)), name)


def commit(user, imp, **kw):
    imports.set_mapping(user, imp, imp.mapping, **kw)
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.RUNNING)
    return imports.run_import(imp.pk)


HEADER = ["姓名", "手机", "邮箱", "公司名称", "职位", "地址"]


def test_gbk_csv_imports_with_phones_normalised_and_mapping_from_chinese_headers(users):
    rep = users["rep_a"]
    imp = upload(rep, [HEADER, ["张伟", "138 0013 8000", "Zhang.Wei@Example.CN", "星辰医疗", "经理",
                                "北京市海淀区中关村大街1号"],
                       ["Ｌｉ Ｎａ", "+86-139-0013-9000", "", "星辰医疗", "", ""]], encoding="gbk")
    assert imp.encoding == "gb18030"
    assert imp.mapping == {"姓名": "name", "手机": "mobile", "邮箱": "email", "公司名称": "account", "职位": "title",
                           "地址": "address"}
    result = commit(rep, imp)
    assert (result.created, result.rejected, result.flagged, result.status) == (2, 0, 0, ImportStatus.DONE)
    zhang = Contact.objects.get(name="张伟")
    assert zhang.phone == "+8613800138000" and zhang.email == "zhang.wei@example.cn"
    assert zhang.owner == rep and zhang.team_id == rep.team_id
    assert ContactMethod.objects.get(contact=zhang, kind="phone").value == "138 0013 8000"  # as typed
    address = Address.objects.get(contact=zhang)
    assert (address.province, address.city, address.district) == ("北京市", "北京市", "海淀区")
    assert Contact.objects.get(phone="+8613900139000").name == "Li Na"  # full width folded
    account = Account.objects.get(name="星辰医疗")
    assert zhang.primary_account == account and list(zhang.accounts.all()) == [account]
    assert Contact.objects.filter(search_text__contains="zhangwei").count() == 1
    # the search text is the one the services would write
    assert zhang.search_text == services._contact_search_text(zhang, None)
    assert audit_trail(zhang).filter(action="create").exists()
    assert AuditEntry.objects.filter(object_repr="contacts.csv", action="create").exists()  # the import itself


def test_invalid_rows_are_rejected_with_reasons_per_cell_and_nothing_of_them_stored(users):
    rep = users["rep_a"]
    imp = upload(rep, [["姓名", "手机", "Email", "生日"],
                       ["好人", "13800138000", "ok@example.com", "1985/3/2"],
                       ["", "13800138001", "", ""],
                       ["坏电话", "12", "bad@", "not a date"],
                       ["=cmd|' /C calc'!A0", "13800138002", "", ""]])
    result = commit(rep, imp)
    assert (result.created, result.rejected) == (2, 2)
    assert Contact.objects.get(name="好人").birthday.isoformat() == "1985-03-02"
    assert Contact.objects.filter(name="=cmd|' /C calc'!A0").exists()  # kept as text; neutralised on export
    assert not Contact.objects.filter(name="坏电话").exists()
    assert not ContactMethod.objects.filter(normalized="+8613800138001").exists()
    text = b"".join(imports.rejected_csv(result)).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].endswith(",errors") or lines[0].endswith(",错误")
    bad = next(line for line in lines if line.startswith("坏电话"))
    assert "手机: 12:" in bad and "Email:" in bad and "生日:" in bad
    assert any(line.startswith(",13800138001") and "姓名:" in line for line in lines)


def test_match_key_updates_instead_of_duplicating(users, zhang):
    account, contact = zhang
    rep = users["rep_a"]
    imp = upload(rep, [["Name", "Email", "Title", "Mobile", "Tags"],
                       ["张伟", "zhang.wei@xingchen.cn", "总经理", "139 0000 1111", "VIP"],
                       ["New Person", "new@example.com", "", "", ""]])
    result = commit(rep, imp, match_key="email")
    assert (result.created, result.updated, result.flagged) == (1, 1, 0)
    contact.refresh_from_db()
    assert contact.title == "总经理" and contact.version == 2
    assert sorted(contact.methods.values_list("normalized", flat=True)) == [
        "+8613800138000", "+8613900001111", "zhang.wei@xingchen.cn"]
    assert contact.phone == "+8613800138000"  # the primary stays
    assert list(contact.tags.values_list("name", flat=True)) == ["VIP"]
    assert Contact.objects.filter(name="张伟").count() == 1
    entry = audit_trail(contact).filter(action="update").first()
    assert entry.changes["title"] == ["采购经理", "总经理"]


def test_possible_duplicates_are_flagged_not_inserted(users, zhang):
    rep = users["rep_a"]
    imp = upload(rep, [["姓名", "手机", "公司"],
                       ["张大伟", "13800138000", ""],  # same phone as 张伟
                       ["张伟", "13711112222", "北京星辰医疗科技有限公司"],  # same name at the same company
                       ["王芳", "13622223333", ""],
                       ["王芳芳", "13622223333", ""]])  # same phone as the row above
    result = commit(rep, imp)
    assert (result.created, result.flagged) == (1, 3)
    assert set(Contact.objects.values_list("name", flat=True)) == {"张伟", "王芳"}
    flagged = [row for b in ImportBatch.objects.filter(run=result) for row in b.flagged]
    assert [f[2] for f in flagged] == [zhang[1].pk, zhang[1].pk, None]
    assert "line 4" in flagged[2][3] or "第" in flagged[2][3]


def test_undo_restores_exactly_the_state_before(users, zhang, settings):
    settings.IMPORT_MAX_BYTES = 10_000_000
    account, contact = zhang
    admin = users["admin"]
    before = list(Contact.objects.values_list("pk", "name", "title", "phone", "email", "search_text", "custom"))
    methods_before = sorted(ContactMethod.objects.values_list("contact_id", "kind", "normalized"))
    rows = [["姓名", "手机", "Email", "职位", "公司", "地址"]]
    rows.append(["张伟", "13800138000", "zhang.wei@xingchen.cn", "总经理", "新公司", "上海市浦东新区世纪大道100号"])
    rows += [[f"测试{i:05d}", f"137{i:08d}", f"t{i}@example.com", "", f"公司{i % 50}", ""] for i in range(4500)]
    imp = upload(admin, rows)
    result = commit(admin, imp, match_key="email")
    assert (result.created, result.updated, result.checkpoint) == (4500, 1, 3)
    assert Contact.objects.count() == 4501
    imports.run_undo(result.pk)
    assert sorted(before) == sorted(Contact.objects.values_list("pk", "name", "title", "phone", "email",
                                                                "search_text", "custom"))
    assert methods_before == sorted(ContactMethod.objects.values_list("contact_id", "kind", "normalized"))
    assert list(Account.objects.values_list("name", flat=True)) == ["北京星辰医疗科技有限公司"]
    assert list(contact.accounts.all()) == [account]
    assert Address.objects.filter(contact=contact).count() == 0
    assert Import.objects.get(pk=imp.pk).status == ImportStatus.UNDONE
    imports.run_undo(result.pk)  # again: nothing more happens
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("per_commit,committed", [(1, 2), (2, 2), (5, 4)])
def test_a_crash_mid_import_resumes_without_losing_or_doubling_rows(users, monkeypatch, per_commit, committed):
    from guanxi.customers import import_jobs

    monkeypatch.setattr(import_jobs, "CHUNKS_PER_COMMIT", per_commit)
    admin = users["admin"]
    rows = [["姓名", "手机"]] + [[f"客户{i}", f"135{i:08d}"] for i in range(7000)]
    imp = upload(admin, rows)
    imports.set_mapping(admin, imp, imp.mapping)

    def crash(number, counts):
        if number == 1:
            raise KeyboardInterrupt("the worker was killed")

    with pytest.raises(KeyboardInterrupt):
        imports.run_import(imp.pk, on_chunk=crash)
    assert gc.isenabled(), "the import hands the worker process its garbage collector back, even when it fails"
    imp.refresh_from_db()
    assert (imp.status, imp.checkpoint, imp.created) == (ImportStatus.FAILED, committed, min(7000, committed * 2000))
    assert Contact.objects.count() == min(7000, committed * 2000)
    with pytest.raises(IntegrityError):  # a chunk already committed cannot be written a second time
        items, accounts = imports.plan_chunk(imports.Context.load(admin, imp), [])
        imports.write_chunk(imports.Context.load(admin, imp), imp, 0, items, accounts)
    result = imports.run_import(imp.pk)
    assert (result.status, result.created, result.rows, result.checkpoint) == (ImportStatus.DONE, 7000, 7000, 4)
    assert Contact.objects.count() == 7000
    assert ContactMethod.objects.values("normalized").distinct().count() == 7000


def test_a_chunk_failing_inside_a_commit_leaves_none_of_that_commits_chunks(users, monkeypatch):
    """Chunks committed together are all or nothing: chunk 0 is rolled back with chunk 1, and the resumed run
    writes both once."""
    from guanxi.customers import import_jobs

    monkeypatch.setattr(import_jobs, "CHUNKS_PER_COMMIT", 2)
    admin = users["admin"]
    imp = upload(admin, [["姓名", "手机"]] + [[f"客户{i}", f"136{i:08d}"] for i in range(5000)])
    imports.set_mapping(admin, imp, imp.mapping)
    blocker = ImportBatch.objects.create(run=imp, number=1)  # chunk 1 cannot be written while this exists
    with pytest.raises(IntegrityError):
        imports.run_import(imp.pk)
    imp.refresh_from_db()
    assert (imp.status, imp.checkpoint, imp.created, Contact.objects.count()) == (ImportStatus.FAILED, 0, 0, 0)
    blocker.delete()
    result = imports.run_import(imp.pk)
    assert (result.status, result.created, result.checkpoint) == (ImportStatus.DONE, 5000, 3)
    assert Contact.objects.count() == 5000


@pytest.mark.parametrize("content,name,fragment", [
    (b"\xff\xfe\x00\x00garbage" + bytes(range(256)) * 4, "contacts.csv", ""),
    ("姓名,手机\n张伟,138\n".encode("utf-16-le")[2:] + b"\x00\xd8", "x.csv", ""),
    (b"BEGIN:VCARD\r\nVERSION:3.0\r\n\x00\x01\x02garbage", "broken.vcf", ""),
    (b"PK\x03\x04not really a zip", "sheet.xlsx", "Excel"),
    (b"", "empty.csv", ""),
])
def test_a_broken_file_gets_a_clear_message_and_changes_nothing(users, content, name, fragment):
    with pytest.raises(ValidationError) as exc:
        imports.upload(users["rep_a"], "contact", io.BytesIO(content), name)
    assert "file" in exc.value.message_dict
    assert fragment in " ".join(exc.value.message_dict["file"])
    assert not Import.objects.exists() and not Contact.objects.exists()
    assert not any((imports.import_dir()).iterdir())


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(users, settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        upload(users["rep_a"], [["姓名"]] + [["张伟"]] * 500)
    assert "1000 bytes" in " ".join(exc.value.message_dict["file"])
    assert not any(imports.import_dir().iterdir())


def test_a_file_broken_halfway_is_refused_before_anything_is_written(users):
    good = "".join(f"客户{i},135{i:08d}\n" for i in range(3000)).encode("utf-8")
    content = "姓名,手机\n".encode() + good + b"\xff\xfe\xfd bad bytes\n"
    imp = imports.upload(users["admin"], "contact", io.BytesIO(content), "c.csv")
    imports.set_mapping(users["admin"], imp, imp.mapping)
    with pytest.raises(ValidationError):
        imports.run_import(imp.pk)
    assert not Contact.objects.exists()
    assert Import.objects.get(pk=imp.pk).status == ImportStatus.FAILED


def test_read_only_user_cannot_import(users):
    with pytest.raises(PermissionDenied):
        upload(users["viewer"], [["姓名"], ["张伟"]])


def test_a_rep_cannot_update_or_detect_another_teams_record(users, zhang):
    _account, contact = zhang  # rep_a's, in team a
    rep_b = users["rep_b"]
    imp = upload(rep_b, [["姓名", "Email", "职位", "手机"], ["张伟", "zhang.wei@xingchen.cn", "被改了", "13800138000"]])
    result = commit(rep_b, imp, match_key="email")
    assert (result.created, result.updated, result.flagged) == (1, 0, 0)  # a new record of rep_b's own
    contact.refresh_from_db()
    assert contact.title == "采购经理" and contact.version == 1
    assert Contact.objects.filter(owner=rep_b).count() == 1


def test_custom_field_match_key_and_owner_column(users):
    CustomField.objects.create(model="contact", key="crm_no", label_zh="客户号", label_en="CRM no.",
                               field_type="text")
    manager = users["manager_a"]
    first = upload(manager, [["姓名", "客户号", "负责人"], ["甲", "A-1", "rep_a"], ["乙", "A-2", "rep_b"]])
    assert first.mapping == {"姓名": "name", "客户号": "custom.crm_no", "负责人": "owner"}
    result = commit(manager, first)
    assert (result.created, result.rejected) == (1, 1)  # rep_b is not in the manager's team
    assert Contact.objects.get(name="甲").owner == users["rep_a"]
    second = upload(manager, [["姓名", "客户号", "部门"], ["甲", "A-1", "采购部"]])
    result = commit(manager, second, match_key="custom.crm_no")
    assert (result.created, result.updated) == (0, 1)
    assert Contact.objects.get(name="甲").department == "采购部"


def test_mapping_errors_and_templates(users):
    rep = users["rep_a"]
    imp = upload(rep, [["Full name", "Cell", "Remarks"], ["Ann Lee", "13800138000", "hi"]])
    with pytest.raises(ValidationError) as exc:
        imports.set_mapping(rep, imp, {"Full name": "name", "Cell": "name", "Remarks": "bogus"})
    assert len(exc.value.message_dict["mapping"]) == 2
    with pytest.raises(ValidationError) as exc:
        imports.set_mapping(rep, imp, {"Full name": None, "Cell": "mobile", "Remarks": None}, match_key="email")
    assert set(exc.value.message_dict) == {"mapping", "match_key"}
    imports.set_mapping(rep, imp, {"Full name": "name", "Cell": "mobile", "Remarks": "notes"}, template_name="mine")
    other = upload(rep, [["Cell", "Full name", "Extra"], ["13800138000", "Bo", "x"]])
    template = imports.templates_for(rep, "contact").get(name="mine")
    assert imports.apply_template(rep, other, template.pk) == {"Cell": "mobile", "Full name": "name", "Extra": None}
    assert not imports.templates_for(users["rep_b"], "contact").exists()


def test_preview_pages_rows_with_their_fate_and_writes_nothing(users, zhang):
    rep = users["rep_a"]
    rows = [["姓名", "手机"], ["张伟", "13800138000"], ["坏", "1"]] + [[f"人{i}", f"136{i:08d}"] for i in range(60)]
    imp = upload(rep, rows)
    page = imports.preview(rep, imp, 0)
    assert page.has_next and len(page.items) == 50
    assert [it.action for it in page.items[:3]] == ["flag", "reject", "new"]
    assert page.items[1].errors["手机"]
    last = imports.preview(rep, imp, 1)
    assert not last.has_next and len(last.items) == 12
    assert Contact.objects.count() == 1
    assert imports.dry_run(rep, imp) == {"rows": 62, "new": 60, "update": 0, "reject": 1, "flag": 1}


def test_accounts_import(users):
    rep = users["rep_a"]
    imp = upload(rep, [["公司名称", "行业", "客户等级", "电话", "网址"],
                       ["星辰医疗", "医疗", "A", "010-6212 3456", "xc.cn"],
                       ["月亮科技", "不存在的行业", "", "", ""]], target="account")
    assert imp.mapping["公司名称"] == "name"
    result = commit(rep, imp)
    assert (result.created, result.rejected) == (1, 1)
    account = Account.objects.get()
    assert (account.industry, account.classification, account.phone) == ("healthcare", "A", "+861062123456")


def test_query_count_per_chunk_is_bounded(users, zhang, django_assert_max_num_queries):
    rep = users["rep_a"]
    rows = [["姓名", "手机", "Email", "公司", "标签", "地址"]]
    rows += [[f"客户{i}", f"135{i:08d}", f"c{i}@example.com", f"公司{i % 30}", "VIP;新客", "广州市天河区体育西路1号"]
             for i in range(600)]
    rows.append(["张伟", "13800138000", "zhang.wei@xingchen.cn", "北京星辰医疗科技有限公司", "老客", ""])
    imp = upload(rep, rows)
    imports.set_mapping(rep, imp, imp.mapping, match_key="email")
    with django_assert_max_num_queries(60):
        result = imports.run_import(imp.pk)
    assert (result.created, result.updated) == (600, 1)


def _indexed(term):
    """Contact ids the search index itself holds for a term (SQLite's FTS5 table; PostgreSQL searches the
    column, which has no separate index to go stale)."""
    if connection.vendor != "sqlite":
        return set(matching(Contact.objects.all(), term).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM customers_contact_fts WHERE customers_contact_fts MATCH %s", [f'"{term}"'])
        return {row[0] for row in cursor.fetchall()}


def _index_consistent():
    """SQLite: FTS5's own check of the index against the text it reads (a bulk write that added or deleted other
    texts than the triggers do would fail it); PostgreSQL has no separate index to check."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in ("customers_contact", "customers_account"):
                cursor.execute(f"INSERT INTO {table}_fts({table}_fts, rank) VALUES ('integrity-check', 1)")
    return True


def test_search_finds_imported_contacts_at_once_and_not_after_undo(users):
    admin = users["admin"]
    rows = [["姓名", "手机", "邮箱", "公司"]]
    rows += [[f"欧阳修{i}", f"136{i:08d}", f"oy{i}@example.com", f"醉翁亭{i % 7}文化公司"] for i in range(2500)]
    imp = upload(admin, rows)
    result = commit(admin, imp)
    assert (result.created, result.checkpoint) == (2500, 2)  # two chunks, each indexed in bulk
    imported = set(Contact.objects.values_list("pk", flat=True))
    one = Contact.objects.get(name="欧阳修2042")
    assert list(matching(Contact.objects.all(), "136 0000 2042")) == [one]
    assert list(matching(Contact.objects.all(), "oy2042@example")) == [one]
    assert _indexed("ouyangxiu") == imported
    assert matching(Account.objects.all(), "醉翁亭3文化").count() == 1
    assert matching(Contact.objects.all(), "阳修").count() == 2500  # a two-character term: the pair index
    assert _index_consistent()
    # the index's own triggers are back: a contact added by hand after the import is found, and so is an edit
    later = services.create_contact(admin, {"name": "欧阳锋", "phones": [{"value": "13900000001"}]})
    assert list(matching(Contact.objects.all(), "13900000001")) == [later]
    services.update_contact(admin, one, {"name": "司马光"}, one.version)
    assert list(matching(Contact.objects.all(), "simaguang")) == [one]
    imports.run_undo(result.pk)
    assert list(Contact.objects.all()) == [later]
    assert _indexed("ouyangxiu") == set()
    assert _indexed("simaguang") == set()
    assert _indexed("ouyangfeng") == {later.pk}
    assert not matching(Contact.objects.all(), "136 0000 2042").exists()
    assert not matching(Account.objects.all(), "醉翁亭3文化").exists()
    assert not matching(Contact.objects.all(), "阳修").exists() and _index_consistent()
    later.delete()  # the delete trigger is back too
    assert _indexed("ouyangfeng") == set()



def test_vcard_and_xlsx_files_import(users, tmp_path):
    rep = users["rep_a"]
    vcard = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:王芳\r\nN:王;芳;;;\r\nORG:月亮科技\r\nTEL;TYPE=CELL:13712345678\r\n"
             "EMAIL:wang@moon.cn\r\nEND:VCARD\r\n").encode()
    imp = imports.upload(rep, "contact", io.BytesIO(vcard), "cards.vcf")
    assert imp.format == "vcard"
    assert commit(rep, imp).created == 1
    assert Contact.objects.get(name="王芳").primary_account.name == "月亮科技"
    from guanxi.customers.fileio import write_xlsx

    path = tmp_path / "book.xlsx"
    write_xlsx(str(path), ["Name", "Mobile", "Company"], [["Ann Lee", 13811112222, "Moon Ltd"]])
    with open(path, "rb") as fh:
        imp = imports.upload(rep, "contact", fh, "book.xlsx")
    assert commit(rep, imp).created == 1
    assert Contact.objects.get(name="Ann Lee").phone == "+8613811112222"


def test_a_large_file_cleaned_in_worker_processes_keeps_each_refused_rows_cells(users):
    """Files of several chunks are cleaned in worker processes, which send the rows back without their cells;
    the rejected-rows file must still give every refused and flagged row as the file had it."""
    admin = users["admin"]
    rows = [["姓名", "手机", "备注"]]
    for i in range(6500):
        phone = "12" if i % 1000 == 7 else f"137{i:08d}"  # seven bad numbers, in four chunks
        rows.append([f"客户{i}", phone, f"第{i}行"])
    rows.append(["客户0", "13700000000", "重复"])  # the same phone as line 2: flagged
    imp = upload(admin, rows)
    assert len(rows) - 1 >= imports.PARALLEL_FROM * imports.CHUNK
    result = commit(admin, imp)
    assert (result.created, result.rejected, result.flagged) == (6493, 7, 1)
    text = b"".join(imports.rejected_csv(result)).decode("utf-8-sig")
    for i in (7, 1007, 6007):
        assert f"客户{i},12,第{i}行" in text
    assert "客户0,13700000000,重复" in text
