"""Exports of the list views (web, API, CLI): exactly the visible filtered rows, Chinese intact, formulas
neutralised, a bounded number of queries whatever the row count, big XLSX as a job."""

import csv
import io

import openpyxl
import pytest
from django.test import Client

from guanxi import cli
from guanxi.core.models import CustomField, JobProgress, JobStatus
from guanxi.core.services import issue_token
from guanxi.customers import export, services
from guanxi.customers.fileio import open_rows
from guanxi.customers.models import Contact

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def data(zhang, users):
    """rep_a: 张伟 (with a company address) and a formula-looking 李娜; rep_b (team B): 陈静."""
    CustomField.objects.create(model="contact", key="wechat", label_zh="微信号", label_en="WeChat ID",
                               field_type="text")
    account, _zhang = zhang
    services.update_account(users["rep_a"], account, {"addresses": [{"line": "北京市朝阳区建国路88号"}]},
                            account.version)
    lina = services.create_contact(users["rep_a"], {"name": "李娜", "title": "=HYPERLINK(\"http://x\")",
                                                    "tags": ["VIP"], "custom": {"wechat": "@lina88"},
                                                    "phones": ["021 6888 1234", "139 0000 0000"],
                                                    "addresses": [{"line": "上海市浦东新区世纪大道100号"}]})
    services.create_contact(users["rep_b"], {"name": "陈静", "tags": ["VIP"]})
    return {"lina": lina}


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(data: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def vcards(data: bytes) -> list[dict]:
    table = open_rows(io.BytesIO(data), "export.vcf")
    assert table.format == "vcard"
    return [values for _line, values in table]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "vcf"])
def test_each_format_holds_exactly_the_visible_rows(data, users, client, fmt):
    client.force_login(users["rep_a"])
    response = client.get(f"/contacts/export.{fmt}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == export.CONTENT_TYPES[fmt]
    assert f".{fmt}" in response["Content-Disposition"]
    content = body(response)
    if fmt == "csv":
        names = sorted(r[1] for r in csv_rows(content)[1:])
    elif fmt == "xlsx":
        names = sorted(r[1] for r in xlsx_rows(content)[1:])
    else:
        names = sorted(card["name"] for card in vcards(content))
    assert names == ["张伟", "李娜"]  # never rep_b's 陈静

    client.force_login(users["rep_b"])
    content = body(client.get(f"/contacts/export.{fmt}"))
    assert "陈静".encode() in content or fmt == "xlsx"
    assert "张伟".encode() not in content and "李娜".encode() not in content


def test_filters_apply_and_chinese_text_survives_in_xlsx(data, users, client):
    client.force_login(users["rep_a"])
    content = body(client.get("/contacts/export.xlsx?tag=VIP"))
    rows = xlsx_rows(content)
    header, lina = rows[0], rows[1]
    assert len(rows) == 2 and lina[1] == "李娜"
    cell = dict(zip(header, lina, strict=True))
    assert cell["微信号"] == "@lina88"
    # a workbook cell can hold "=…" as text: stored as a string, never as a formula
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    title = sheet.cell(row=2, column=header.index("职务") + 1)
    assert title.value == "=HYPERLINK(\"http://x\")" and title.data_type == "s"
    assert cell["省份"] == "上海市" and cell["街道"] == "世纪大道100号"
    assert cell["标签"] == "VIP"
    assert cell["电话"] == "+862168881234" and cell["其他电话"] == "139 0000 0000"


def test_csv_neutralises_formulas_and_keeps_related_lists(data, users, client):
    client.force_login(users["rep_a"])
    rows = csv_rows(body(client.get("/contacts/export.csv?sort=name")))
    header = rows[0]
    by_name = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_name["李娜"]["职务"].startswith("'=")
    assert by_name["李娜"]["微信号"] == "'@lina88"
    assert by_name["张伟"]["公司"] == "北京星辰医疗科技有限公司"
    assert by_name["张伟"]["邮箱"] == "zhang.wei@xingchen.cn"


def test_vcard_reads_back_with_chinese_and_address(data, users, client):
    client.force_login(users["rep_a"])
    cards = {c["name"]: c for c in vcards(body(client.get("/contacts/export.vcf")))}
    assert cards["张伟"]["account"] == "北京星辰医疗科技有限公司"
    assert cards["张伟"]["mobile"] == "+8613800138000"  # a Chinese mobile number is TYPE=cell
    assert cards["李娜"]["city"] == "上海市" and cards["李娜"]["district"] == "浦东新区"
    assert cards["李娜"]["phone"] == "+862168881234"
    assert cards["李娜"]["tags"] == "VIP"


def test_accounts_export_in_every_format(data, users, client):
    client.force_login(users["rep_a"])
    rows = csv_rows(body(client.get("/accounts/export.csv")))
    assert [r[1] for r in rows[1:]] == ["北京星辰医疗科技有限公司"]
    assert "建国路88号" in rows[1]
    cards = vcards(body(client.get("/accounts/export.vcf")))
    assert cards[0]["name"] == "北京星辰医疗科技有限公司"
    assert xlsx_rows(body(client.get("/accounts/export.xlsx")))[1][1] == "北京星辰医疗科技有限公司"


@pytest.mark.parametrize("url", ["/contacts/export.pdf", "/contacts/export.csv?sort=bogus",
                                 "/accounts/export.xlsx?classification=Z", "/contacts/export.csv?owner=x"])
def test_bad_input_is_a_400_naming_the_field(data, users, client, url):
    client.force_login(users["rep_a"])
    response = client.get(url)
    assert response.status_code == 400
    field = {"pdf": "format", "bogus": "sort", "=Z": "classification", "owner": "owner"}
    assert any(f.encode() in response.content for k, f in field.items() if k in url)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "vcf"])
def test_queries_do_not_grow_with_rows(users, client, django_assert_max_num_queries, fmt):
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "星辰", "addresses": [{"line": "北京市朝阳区建国路88号"}]})

    def make(count):
        for i in range(count - Contact.objects.filter(owner=rep).count()):
            services.create_contact(rep, {"name": f"王{i}", "account_ids": [account.pk], "tags": ["t"],
                                          "phones": [f"1380013{i:04d}"], "emails": [f"w{i}@x.cn"],
                                          "addresses": [{"line": "上海市浦东新区世纪大道100号"}]})

    client.force_login(rep)
    counts = {}
    for size in (10, 300):
        make(size)
        with django_assert_max_num_queries(20) as captured:
            content = body(client.get(f"/contacts/export.{fmt}"))
        counts[size] = len(captured.captured_queries)
        assert content
    assert counts[300] == counts[10]


def test_batches_cost_a_fixed_number_of_queries(users, django_assert_max_num_queries, monkeypatch):
    rep = users["rep_a"]
    for i in range(30):
        services.create_contact(rep, {"name": f"李{i}", "phones": [f"1390000{i:04d}"], "tags": ["a"]})
    qs = export.export_queryset("contact", rep, {})
    with django_assert_max_num_queries(3 * 4 + 2):  # 3 batches of 10 plus the empty end: each a handful
        rows = list(export.records("contact", qs, rep, batch=10))
    assert len(rows) == 30 and {r["name"] for r in rows} == {f"李{i}" for i in range(30)}


def test_api_export_with_filters_and_errors(data, users):
    client = Client(headers={"Authorization": f"Bearer {issue_token(users['rep_a'])}"})
    response = client.get("/api/v1/contacts/export", {"format": "xlsx", "tag": "VIP"})
    assert response.status_code == 200
    assert [r[1] for r in xlsx_rows(body(response))[1:]] == ["李娜"]
    assert vcards(body(client.get("/api/v1/contacts/export", {"format": "vcf"})))
    assert csv_rows(body(client.get("/api/v1/accounts/export")))[1][1] == "北京星辰医疗科技有限公司"
    bad = client.get("/api/v1/contacts/export", {"format": "doc"})
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    bad = client.get("/api/v1/accounts/export", {"classification": "Z"})
    assert bad.status_code == 400 and "classification" in bad.json()["errors"]
    other = Client(headers={"Authorization": f"Bearer {issue_token(users['rep_b'])}"})
    names = [r[1] for r in csv_rows(body(other.get("/api/v1/contacts/export")))[1:]]
    assert names == ["陈静"]
    assert Client().get("/api/v1/contacts/export").status_code == 401


def test_big_xlsx_runs_as_a_job_with_a_download(data, users, client, settings, monkeypatch, tmp_path,
                                                django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(export, "XLSX_SYNC_LIMIT", 1)
    client.force_login(users["rep_a"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/contacts/export.xlsx")
    assert response.status_code == 302
    job = JobProgress.objects.get(kind=export.EXPORT_JOB)
    assert job.status == JobStatus.DONE and job.user == users["rep_a"] and job.total == 2
    page = client.get(response["Location"])
    assert b"export-download" in page.content
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200
    assert sorted(r[1] for r in xlsx_rows(body(download))[1:]) == ["张伟", "李娜"]
    # someone else's job is a 404, page and file alike
    client.force_login(users["rep_b"])
    assert client.get(f"/exports/{job.pk}/").status_code == 404
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404

    api = Client(headers={"Authorization": f"Bearer {issue_token(users['rep_a'])}"})
    with django_capture_on_commit_callbacks(execute=True):
        started = api.get("/api/v1/contacts/export", {"format": "xlsx"})
    assert started.status_code == 202
    status = api.get(started.json()["status_url"]).json()
    assert status["status"] == "done" and status["download_url"]
    assert len(xlsx_rows(body(api.get(status["download_url"])))) == 3
    rep_b = Client(headers={"Authorization": f"Bearer {issue_token(users['rep_b'])}"})
    assert rep_b.get(started.json()["status_url"]).status_code == 404
    assert api.get("/api/v1/exports/not-a-uuid").status_code == 404


def test_cli_export_as_a_user(data, users, tmp_path, capsys):
    out = tmp_path / "contacts.xlsx"
    assert cli.main(["export", "--type", "contact", "--format", "xlsx", "--user", "rep_a", "--output", str(out),
                     "--tag", "VIP"]) == 0
    rows = xlsx_rows(out.read_bytes())
    assert [r[1] for r in rows[1:]] == ["李娜"]
    vcf = tmp_path / "b.vcf"
    assert cli.main(["export", "--format", "vcf", "--user", "rep_b", "-o", str(vcf)]) == 0
    assert [c["name"] for c in vcards(vcf.read_bytes())] == ["陈静"]
    assert cli.main(["export", "--type", "account", "--user", "rep_a", "--filter", "classification=Z",
                     "-o", str(tmp_path / "x.csv")]) == 2
    assert "classification" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert cli.main(["export", "--user", "nobody"]) == 2
