"""Imports through /api/v1/: upload → mapping → preview → start (a real background job) → contacts → rejected
rows → undo; bad files, bad mappings, access rules, and a constant number of queries for the list."""

import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from guanxi.core.models import JobProgress
from guanxi.customers import services
from guanxi.customers.import_models import Import, ImportStatus, ImportTemplate
from guanxi.customers.models import Contact

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

CSV = ("姓名,手机,邮箱,备注\n"
       "张伟,138 0013 8000,zhang.wei@example.cn,老客户\n"
       "李娜,12,li.na@example.cn,\n"
       "王芳,139 0013 9000,,新客户\n"
       ",137 0013 7000,nobody@example.cn,\n")


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.HOME = tmp_path
    settings.TASKS = IMMEDIATE_TASKS
    return tmp_path


def stored_files(home):
    folder = home / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def upload(client, content=CSV, name="客户.csv", target="contact", encoding="utf-8"):
    data = {"target": target} if target is not None else {}
    if content is not None:
        raw = content if isinstance(content, bytes) else content.encode(encoding)
        data["file"] = SimpleUploadedFile(name, raw, content_type="text/csv")
    return client.client.post("/api/v1/imports", data, headers=client.headers)


def put(client, path, body):
    return client._send("put", path, body)


def run_worker():
    """django_tasks_db's worker, as `guanxi serve` runs it: every task that is ready, then it returns."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def poll_until_finished(client, job_id, tries=5):
    """Poll the job as an integrator would; the worker gets a turn between polls (bounded, no sleeping)."""
    for _ in range(tries):
        job = client.get(f"jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        run_worker()
    raise AssertionError(f"job {job_id} still {job['status']}")


@pytest.mark.django_db(transaction=True)
def test_the_whole_import_through_the_api(api, users, settings, home):
    settings.TASKS = DATABASE_TASKS
    rep = api["rep_a"]
    r = upload(rep)
    assert r.status_code == 201, r.content
    imp = r.json()
    assert (imp["format"], imp["encoding"], imp["status"]) == ("csv", "utf-8", "uploaded")
    assert imp["headers"] == ["姓名", "手机", "邮箱", "备注"]
    assert imp["mapping"] == {"姓名": "name", "手机": "mobile", "邮箱": "email", "备注": "notes"}
    assert "name" in imp["fields"] and "email" in imp["match_keys"]
    assert [i["id"] for i in rep.get("imports").json()["items"]] == [imp["id"]]

    # map: match by email, save as a template
    r = put(rep, f"imports/{imp['id']}/mapping", {"mapping": imp["mapping"], "match_key": "email",
                                                  "template_name": "客户表"})
    assert r.status_code == 200, r.content
    assert r.json()["match_key"] == "email"
    templates = rep.get("import-templates", {"target": "contact"}).json()["items"]
    assert [(t["name"], t["mapping"]["手机"]) for t in templates] == [("客户表", "mobile")]
    assert rep.get("import-templates", {"target": "account"}).json()["items"] == []

    # preview: per-row results, nothing written
    r = rep.get(f"imports/{imp['id']}/preview", {"page": 0})
    assert r.status_code == 200, r.content
    preview = r.json()
    assert [(row["line"], row["action"]) for row in preview["items"]] == [
        (2, "new"), (3, "reject"), (4, "new"), (5, "reject")]
    assert preview["counts"] == {"new": 2, "update": 0, "reject": 2, "flag": 0}
    assert list(preview["items"][1]["errors"]) == ["手机"]
    assert preview["items"][0]["cells"]["姓名"] == "张伟" and not preview["has_next"]
    assert not Contact.objects.exists()

    # start: 202 with the job, queued until a worker takes it
    r = rep.post(f"imports/{imp['id']}/start")
    assert r.status_code == 202, r.content
    started = r.json()
    assert started["job"]["status"] == "queued" and started["status_url"] == f"/api/v1/imports/{imp['id']}"
    assert rep.get(f"imports/{imp['id']}").json()["status"] == "running"
    job = poll_until_finished(rep, started["job"]["id"])
    assert job["status"] == "done", job
    detail = rep.get(f"imports/{imp['id']}").json()
    assert (detail["status"], detail["created"], detail["rejected"], detail["job"]["percent"]) == ("done", 2, 2, 100)

    # the contacts are there for the API's own list
    contacts = {c["name"]: c for c in rep.get("contacts").json()["items"]}
    assert set(contacts) == {"张伟", "王芳"}
    assert [p["value"] for p in contacts["张伟"]["phones"]] == ["138 0013 8000"]

    # the rejected rows, with the reason beside the bad cell
    r = rep.get(f"imports/{imp['id']}/rejected.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("姓名,手机,邮箱,备注,")
    assert lines[1].startswith("李娜,") and "手机" in lines[1].split(",", 4)[4]
    assert "137 0013 7000" in lines[2]

    # undo: the contacts are gone again
    r = rep.post(f"imports/{imp['id']}/undo")
    assert r.status_code == 202, r.content
    assert poll_until_finished(rep, r.json()["job"]["id"])["status"] == "done"
    assert rep.get("contacts").json()["items"] == []
    assert rep.get(f"imports/{imp['id']}").json()["status"] == "undone"


def test_gbk_file_and_accounts(api):
    r = upload(api["rep_a"], "公司名称,行业,网址\n星辰医疗,医疗,https://xc.example.cn\n", target="account",
               encoding="gbk", name="公司.csv")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["target"], body["encoding"]) == ("account", "gb18030")
    assert body["mapping"] == {"公司名称": "name", "行业": "industry", "网址": "website"}


@pytest.mark.parametrize("content, name", [
    (b"\xd0\xcf\x11\xe0xx", "old.xls"),  # an old Excel file
    (b"", "empty.csv"),
    (b"PK\x03\x04 not really a workbook", "book.xlsx"),
    (b"\xff\xfe\x00\x00\x81\x82\x83\x84", "bad.csv"),
])
def test_a_broken_file_is_400_naming_file_and_nothing_is_kept(api, home, content, name):
    r = upload(api["rep_a"], content, name=name)
    assert r.status_code == 400, r.content
    body = r.json()
    assert list(body["errors"]) == ["file"] and body["errors"]["file"][0]
    assert not Import.objects.exists() and stored_files(home) == []


def test_a_file_over_the_limit_is_413_with_the_limit(api, settings, home):
    settings.IMPORT_MAX_BYTES = 100
    r = upload(api["rep_a"], CSV * 5)
    assert r.status_code == 413  # stopped by the upload cap while it was received (tests/core/test_uploads.py)
    assert list(r.json()["errors"]) == ["file"] and "100" in r.json()["errors"]["file"][0]
    assert not Import.objects.exists() and stored_files(home) == []


@pytest.mark.parametrize("content, target, field", [(None, "contact", "file"), (CSV, "people", "target"),
                                                    (CSV, None, "target")])
def test_missing_or_bad_upload_fields_are_400_naming_them(api, content, target, field):
    r = upload(api["rep_a"], content, target=target)
    assert r.status_code == 400
    assert field in r.json()["errors"]
    assert not Import.objects.exists()


@pytest.fixture
def uploaded(api):
    r = upload(api["rep_a"])
    assert r.status_code == 201
    return r.json()


@pytest.mark.parametrize("body, field", [
    ({"mapping": {"姓名": "nickname"}}, "mapping"),  # no such field
    ({"mapping": {"名字": "name"}}, "mapping"),  # no such column
    ({"mapping": {"姓名": "name", "备注": "name"}}, "mapping"),  # one field from two columns
    ({"mapping": {"手机": "mobile"}}, "mapping"),  # nothing is the name
    ({"match_key": "birthday"}, "match_key"),
    ({"mapping": {"姓名": "name"}, "match_key": "email"}, "match_key"),  # match by a field not mapped
    ({"template_name": "x" * 101}, "template_name"),
    ({"template_id": 999999}, "template"),
    ({"mapping": "姓名=name"}, "mapping"),
])
def test_bad_mappings_are_400_naming_the_field_and_change_nothing(api, uploaded, body, field):
    r = put(api["rep_a"], f"imports/{uploaded['id']}/mapping", body)
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"], r.json()
    imp = Import.objects.get()
    assert (imp.mapping, imp.match_key) == (uploaded["mapping"], "")
    assert not ImportTemplate.objects.exists()


def test_a_saved_template_applies_to_the_next_file(api, uploaded):
    rep = api["rep_a"]
    put(rep, f"imports/{uploaded['id']}/mapping", {"mapping": {"姓名": "name", "手机": "phone", "邮箱": None,
                                                               "备注": "notes"}, "template_name": "只要电话"})
    template = rep.get("import-templates").json()["items"][0]
    second = upload(rep).json()
    assert second["mapping"]["手机"] == "mobile"  # the guess
    r = put(rep, f"imports/{second['id']}/mapping", {"template_id": template["id"]})
    assert r.status_code == 200
    # the template's columns as saved; a column it left unmapped is guessed again, as in the UI
    assert r.json()["mapping"] == {"姓名": "name", "手机": "phone", "邮箱": "email", "备注": "notes"}


def test_a_started_import_cannot_be_remapped_or_started_twice(api, uploaded, django_capture_on_commit_callbacks):
    rep = api["rep_a"]
    with django_capture_on_commit_callbacks(execute=True):
        assert rep.post(f"imports/{uploaded['id']}/start").status_code == 202
    assert Import.objects.get().status == ImportStatus.DONE
    r = put(rep, f"imports/{uploaded['id']}/mapping", {"match_key": "email"})
    assert r.status_code == 400 and "__all__" in r.json()["errors"]
    assert rep.post(f"imports/{uploaded['id']}/start").status_code == 400
    assert JobProgress.objects.count() == 1
    assert Import.objects.get().match_key == ""


def test_undo_before_the_import_ran_is_400(api, uploaded):
    r = api["rep_a"].post(f"imports/{uploaded['id']}/undo")
    assert r.status_code == 400 and r.json()["detail"]
    assert Import.objects.get().status == ImportStatus.UPLOADED


@pytest.mark.parametrize("page", ["-1", "x", "100001"])
def test_bad_preview_page_is_400_naming_page(api, uploaded, page):
    r = api["rep_a"].get(f"imports/{uploaded['id']}/preview", {"page": page})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["page"]


def test_preview_pages(api, settings):
    rows = "".join(f"联系人{i:03d},138 0013 {8000 + i}\n" for i in range(60))
    imp = upload(api["rep_a"], "姓名,手机\n" + rows).json()
    first = api["rep_a"].get(f"imports/{imp['id']}/preview").json()
    second = api["rep_a"].get(f"imports/{imp['id']}/preview", {"page": 1}).json()
    assert (len(first["items"]), first["has_next"], len(second["items"]), second["has_next"]) == (50, True, 10, False)
    assert second["items"][0]["cells"]["姓名"] == "联系人050"


def test_another_users_import_is_404_and_an_administrator_sees_it(api, uploaded):
    pk = uploaded["id"]
    other = api["rep_b"]
    for response in (other.get(f"imports/{pk}"), other.get(f"imports/{pk}/preview"),
                     put(other, f"imports/{pk}/mapping", {"match_key": ""}), other.post(f"imports/{pk}/start"),
                     other.post(f"imports/{pk}/undo"), other.get(f"imports/{pk}/rejected.csv")):
        assert response.status_code == 404
    assert other.get("imports").json()["items"] == []
    assert Import.objects.get().status == ImportStatus.UPLOADED
    admin = api["admin"]
    assert admin.get(f"imports/{pk}").status_code == 200
    assert [i["id"] for i in admin.get("imports").json()["items"]] == [pk]


def test_read_only_users_may_not_import(api, uploaded):
    viewer = api["viewer"]
    r = upload(viewer)
    assert r.status_code == 403 and r.json()["detail"]
    for response in (viewer.get("imports"), viewer.get(f"imports/{uploaded['id']}"), viewer.get("import-templates"),
                     viewer.post(f"imports/{uploaded['id']}/start")):
        assert response.status_code == 403
    assert Import.objects.count() == 1


def test_without_a_token_is_401(uploaded):
    from django.test import Client

    assert Client().get("/api/v1/imports").status_code == 401
    assert Client().post("/api/v1/imports", {"target": "contact"}).status_code == 401


def test_the_list_pages_with_a_cursor_in_a_constant_number_of_queries(api, users, django_assert_max_num_queries,
                                                                      django_capture_on_commit_callbacks):
    rep = api["rep_a"]
    for i in range(7):
        imp = upload(rep, f"姓名\n客户{i}\n").json()
        if i % 2:
            with django_capture_on_commit_callbacks(execute=True):
                rep.post(f"imports/{imp['id']}/start")
    services.create_contact(users["rep_a"], {"name": "无关"})
    rep.get("users/me")  # the token's last-used time is written once
    with django_assert_max_num_queries(6) as few:
        first = rep.get("imports", {"limit": 2}).json()
    with django_assert_max_num_queries(len(few.captured_queries)):
        rest = rep.get("imports", {"limit": 5, "cursor": first["next"]}).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 5 and rest["next"] is None
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert sum(1 for i in first["items"] + rest["items"] if i["job"] and i["job"]["status"] == "done") == 3
    assert rep.get("imports", {"target": "account"}).json()["items"] == []
    assert rep.get("imports", {"cursor": "nonsense"}).status_code == 400
