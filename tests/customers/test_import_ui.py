"""The import pages: upload → mapping → preview → commit job → result, rejected rows, undo; permissions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.import_models import Import, ImportStatus, ImportTemplate
from guanxi.customers.models import Contact

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.HOME = tmp_path
    settings.TASKS = IMMEDIATE


def csv_file(text, name="客户.csv", encoding="gbk"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_the_whole_flow_in_the_pages(client, users, django_capture_on_commit_callbacks):
    client.force_login(users["rep_a"])
    assert 'id="import-link"' in client.get("/contacts/").content.decode()
    upload = csv_file("姓名,手机,备注\n张伟,138 0013 8000,老客户\n李娜,12,\n")
    response = client.post("/imports/new/", {"target": "contact", "file": upload})
    imp = Import.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{imp.pk}/mapping/"
    page = client.get(response.url).content.decode()
    assert 'name="col-0"' in page and "138 0013 8000" in page
    response = client.post(response.url, {"col-0": "name", "col-1": "mobile", "col-2": "notes", "match_key": "",
                                           "template_name": "我的模板", "action": "save"})
    assert response.status_code == 302 and response.url == f"/imports/{imp.pk}/preview/"
    assert ImportTemplate.objects.get().mapping == {"姓名": "name", "手机": "mobile", "备注": "notes"}
    page = client.get(response.url).content.decode()
    assert page.count('data-action="new"') == 1 and page.count('data-action="reject"') == 1
    assert not Contact.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{imp.pk}/preview/")
    assert response.url == f"/imports/{imp.pk}/"
    imp.refresh_from_db()
    assert (imp.status, imp.created, imp.rejected) == (ImportStatus.DONE, 1, 1)
    assert Contact.objects.get().description == "老客户"
    page = client.get(response.url).content.decode()
    assert 'id="download-rejected"' in page and 'id="import-undo"' in page
    rejected = b"".join(client.get(f"/imports/{imp.pk}/rejected.csv").streaming_content).decode("utf-8-sig")
    assert "李娜" in rejected and "手机" in rejected
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{imp.pk}/undo/")
    assert Import.objects.get().status == ImportStatus.UNDONE and not Contact.objects.exists()


def test_a_bad_file_is_a_field_error_on_the_page(client, users):
    client.force_login(users["rep_a"])
    old_excel = SimpleUploadedFile("a.xls", b"\xd0\xcf\x11\xe0xx")
    response = client.post("/imports/new/", {"target": "contact", "file": old_excel})
    assert response.status_code == 400 and 'id="file-error"' in response.content.decode()
    assert not Import.objects.exists()


def test_read_only_users_and_other_users_imports(client, users):
    client.force_login(users["viewer"])
    assert 'id="import-link"' not in client.get("/contacts/").content.decode()
    assert client.get("/imports/new/").status_code == 403
    client.force_login(users["rep_a"])
    client.post("/imports/new/", {"target": "contact", "file": csv_file("姓名\n张伟\n")})
    imp = Import.objects.get()
    client.force_login(users["rep_b"])
    assert client.get(f"/imports/{imp.pk}/mapping/").status_code == 404
    assert client.get(f"/imports/{imp.pk}/rejected.csv").status_code == 404
    assert client.post(f"/imports/{imp.pk}/undo/").status_code == 404
