"""Leads through the import pipeline: the pages (GBK file, guessed mapping, preview, job, rejected rows, undo),
`guanxi import --type leads`, the API; an email or phone that matches updates the lead, the assignment rules
give the new ones their owners, and undo puts everything back."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.activities import services as activity_services
from guanxi.activities.models import Activity
from guanxi.cli import main
from guanxi.core.models import AuditEntry
from guanxi.customers.import_models import Import, ImportStatus
from guanxi.sales import lead_services
from guanxi.sales.models import Lead, LeadAssignmentRule

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

CSV = ("姓名,公司,手机,邮箱,来源,省份\n"
       "钱多多,上海瑞金医疗器械,138 0013 8000,qian@ruijin.cn,展会,上海市\n"
       "赵敏,,,,,\n"
       "孙悦,杭州悦来科技,139-0013-9000,SUN@yuelai.cn,官网,浙江省\n"
       "周杰,,12,zhou@,,\n"
       "钱多多二号,,+86 13800138000,,,\n")


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.HOME = tmp_path
    settings.TASKS = IMMEDIATE
    return tmp_path


@pytest.fixture
def existing(users):
    """rep_a's lead 孙悦 (to be updated by email, typed in another case) and a round-robin rule over rep_a2 and
    rep_b for leads that come from the web site."""
    lead = lead_services.create_lead(users["rep_a"], {"name": "孙悦", "email": "sun@yuelai.cn", "title": "经理"})
    lead_services.save_assignment_rules(users["admin"], [
        {"name": "官网", "sources": ["website"], "member_ids": [users["rep_a2"].pk, users["rep_b"].pk]},
        {"name": "展会", "sources": ["exhibition"], "member_ids": [users["rep_b"].pk]}])
    return lead


def gbk(text, name="线索.csv"):
    return SimpleUploadedFile(name, text.encode("gbk"), content_type="text/csv")


def test_the_pages_import_a_gbk_file_of_leads_and_undo_it(client, users, existing,
                                                          django_capture_on_commit_callbacks):
    client.force_login(users["admin"])
    assert 'id="import-leads"' in client.get("/sales/leads/").content.decode()
    response = client.post("/imports/new/", {"target": "lead", "file": gbk(CSV)})
    imp = Import.objects.get()
    assert response.status_code == 302 and imp.encoding in ("gb18030", "gbk")
    assert imp.mapping == {"姓名": "name", "公司": "company", "手机": "phone", "邮箱": "email", "来源": "source",
                           "省份": "province"}
    assert imp.match_key == "email"  # a lead import updates by email unless told otherwise
    page = client.get(response.url).content.decode()
    assert '<option value="email" selected' in page.replace("\n", "") or 'value="email" selected' in page
    # by the file's column order: PostgreSQL's jsonb does not keep the mapping's key order
    post = {f"col-{i}": imp.mapping[h] for i, h in enumerate(imp.headers)} | {"match_key": "email",
                                                                              "action": "save"}
    response = client.post(f"/imports/{imp.pk}/mapping/", post)
    assert response.url == f"/imports/{imp.pk}/preview/"
    page = client.get(response.url).content.decode()
    assert page.count('data-action="new"') == 1 and page.count('data-action="update"') == 1
    assert page.count('data-action="reject"') == 2 and page.count('data-action="flag"') == 1
    assert Lead.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{imp.pk}/preview/")
    imp.refresh_from_db()
    assert (imp.status, imp.created, imp.updated, imp.rejected, imp.flagged) == (ImportStatus.DONE, 1, 1, 2, 1)
    new = Lead.objects.get(name="钱多多")
    # the rules: 展会 (a trade show) goes to rep_b
    assert (new.phone, new.email, new.source, new.province, new.owner) == (
        "+8613800138000", "qian@ruijin.cn", "exhibition", "上海市", users["rep_b"])
    assert new.assigned_by_rule == LeadAssignmentRule.objects.get(name="展会")
    existing.refresh_from_db()
    assert (existing.company, existing.phone, existing.title, existing.owner) == (
        "杭州悦来科技", "+8613900139000", "经理", users["rep_a"])  # filled in, not reassigned, title kept
    assert Lead.objects.count() == 2  # 孙悦 updated, not duplicated
    ct = ContentType.objects.get_for_model(Lead)
    audit = AuditEntry.objects.filter(content_type=ct, object_id=existing.pk).first()
    assert audit.changes["company"] == ["", "杭州悦来科技"] and audit.changes["import"] == [None, imp.pk]
    rejected = b"".join(client.get(f"/imports/{imp.pk}/rejected.csv").streaming_content).decode("utf-8-sig")
    assert "赵敏" in rejected and "周杰" in rejected and "钱多多二号" in rejected
    assert "phone, an email or a company" in rejected or "电话、邮箱或公司" in rejected or "follow" in rejected
    # Followed up and converted before the undo: the customer keeps the call the lead had.
    call = activity_services.log_activity(users["admin"], {"kind": "call", "subject": "展会后回访", "lead_id": new.pk})
    new = lead_services.convert_lead(users["admin"], new, {"create_opportunity": False}, new.version)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{imp.pk}/undo/")
    assert Import.objects.get().status == ImportStatus.UNDONE
    assert list(Lead.objects.values_list("name", flat=True)) == ["孙悦"]
    assert Activity.objects.get(pk=call.pk).account_id == new.converted_account_id
    existing.refresh_from_db()
    assert (existing.company, existing.phone, existing.email) == ("", "", "sun@yuelai.cn")


def test_rejected_rows_name_the_column_and_the_reason(users, english):
    from guanxi.customers import import_services as imports

    rep = users["rep_a"]
    with open_csv("姓名,手机,邮箱,评级\n周杰,12,zhou@,很热\n,,a@b.cn,\n") as fh:
        imp = imports.upload(rep, "lead", fh, "leads.csv")
    imports.set_mapping(rep, imp, imp.mapping, "")
    items = {it.line: it for it in imports.preview(rep, imp).items}
    assert set(items[2].errors) == {"手机", "邮箱", "评级"}
    assert items[3].action == "reject" and "name" in items[3].errors[""][0]


def open_csv(text):
    import io

    return io.BytesIO(text.encode("utf-8"))


def test_round_robin_over_an_imported_file_and_the_phone_match_key(users, existing, django_assert_max_num_queries):
    from guanxi.customers import import_services as imports

    admin = users["admin"]
    rows = "".join(f"网客{i},,1390000{i:04d},官网\n" for i in range(6))
    with open_csv("姓名,公司,电话,来源\n" + rows) as fh:
        imp = imports.upload(admin, "lead", fh, "web.csv")
    assert imp.match_key == "phone"  # no email column mapped: the phone, normalised
    imports.set_mapping(admin, imp, imp.mapping, "phone")
    with django_assert_max_num_queries(40):  # a fixed number per chunk, not per row
        imports.run_import(imp.pk)
    owners = list(Lead.objects.filter(name__startswith="网客").order_by("pk").values_list("owner__username",
                                                                                           flat=True))
    assert owners == ["rep_a2", "rep_b"] * 3
    assert LeadAssignmentRule.objects.get(name="官网").last_user == users["rep_b"]
    with open_csv("姓名,手机,职位\n网客一,+86 139-0000-0001,总监\n") as fh:
        again = imports.upload(admin, "lead", fh, "again.csv")
    imports.set_mapping(admin, again, again.mapping, "phone")
    done = imports.run_import(again.pk)
    assert (done.created, done.updated) == (0, 1)
    lead = Lead.objects.get(phone="+8613900000001")
    assert (lead.name, lead.title, lead.owner) == ("网客一", "总监", users["rep_b"])


def test_a_rep_cannot_update_a_lead_that_is_not_theirs(users, existing):
    from guanxi.customers import import_services as imports

    rep = users["rep_b"]  # cannot see rep_a's 孙悦: a new lead, not an update of someone else's
    with open_csv("姓名,邮箱\n孙悦,sun@yuelai.cn\n") as fh:
        imp = imports.upload(rep, "lead", fh, "x.csv")
    imports.set_mapping(rep, imp, imp.mapping, "email")
    assert [it.action for it in imports.preview(rep, imp).items] == ["new"]
    manager = users["manager_a"]  # sees it (rep_a is in their team): an update
    with open_csv("姓名,邮箱,职位\n孙悦,sun@yuelai.cn,总经理\n") as fh:
        imp = imports.upload(manager, "lead", fh, "y.csv")
    imports.set_mapping(manager, imp, imp.mapping, "email")
    assert [(it.action, it.target_id) for it in imports.preview(manager, imp).items] == [("update", existing.pk)]


def test_guanxi_import_type_leads(users, existing, tmp_path, capsys):
    data = tmp_path / "leads.csv"
    data.write_bytes("Name,Company,Mobile,Email,Lead Source\n钱多多,瑞金,138 0013 8000,q@rj.cn,web\n"
                     "孙悦,悦来,,sun@yuelai.cn,\n坏,,,,\n".encode("gb18030"))
    assert main(["import", str(data), "--type", "leads", "--user", "admin", "--dry-run"]) == 0
    assert "1 new, 1 updates, 1 rejected" in capsys.readouterr().out and Lead.objects.count() == 1
    assert main(["import", str(data), "--type", "leads", "--user", "admin"]) == 0
    out = capsys.readouterr().out
    assert "1 created, 1 updated, 1 rejected" in out and "rejected.csv" in out
    assert Lead.objects.get(email="q@rj.cn").owner == users["rep_a2"]  # the 官网 (web) rule
    assert Lead.objects.get(pk=existing.pk).company == "悦来"
    assert main(["import", str(data), "--type", "lead", "--user", "viewer"]) == 2


def test_leads_through_the_imports_api(users, existing, django_capture_on_commit_callbacks):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    api = ApiClient(issue_token(users["rep_a"]))
    raw = "姓名,公司,手机,邮箱\n孙悦,悦来科技,,sun@yuelai.cn\n新人,新公司,,\n".encode("gbk")
    r = api.client.post("/api/v1/imports", {"target": "lead", "file": SimpleUploadedFile("l.csv", raw)},
                        headers=api.headers)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["target"], body["match_key"], body["match_keys"]) == ("lead", "email", ["email", "phone"])
    assert "company" in body["fields"] and "tags" not in body["fields"]
    r = api.put(f"imports/{body['id']}/mapping", {"mapping": body["mapping"], "match_key": "external_id"})
    assert r.status_code == 400 and "match_key" in r.json()["errors"]
    r = api.put(f"imports/{body['id']}/mapping", {"mapping": body["mapping"]})
    assert r.status_code == 200 and r.json()["match_key"] == "email"  # kept
    r = api.get(f"imports/{body['id']}/preview")
    assert [(row["action"], row["target_id"]) for row in r.json()["items"]] == [("update", existing.pk), ("new", None)]
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"imports/{body['id']}/start")
    assert r.status_code == 202
    assert api.get(f"imports/{body['id']}").json()["status"] == "done"
    assert Lead.objects.get(name="新人").owner == users["rep_a"]  # no rule for a lead without a source
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"imports/{body['id']}/undo")
    assert r.status_code == 202 and not Lead.objects.filter(name="新人").exists()
    assert Lead.objects.get(pk=existing.pk).company == ""
