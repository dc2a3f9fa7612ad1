"""Importing in a real browser: upload a small CSV, map, preview, commit, watch the progress, see the contacts."""

import re

import pytest

from guanxi.customers.models import Contact

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_rep_imports_a_csv_and_sees_the_contacts(new_page, live_server, transactional_db, users, settings,
                                                 tmp_path):
    settings.HOME = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    data = tmp_path / "联系人.csv"
    data.write_bytes("姓名,手机,邮箱,公司名称\n欧阳娜娜,139 1234 5678,nana@example.cn,星辰医疗\n"
                     "Peter Wong,+86 138-0000-1111,peter@example.com,星辰医疗\n坏号码,12,,\n".encode("gbk"))
    page = new_page()
    log_in(page, "rep_a")
    page.goto("/contacts/")
    page.click("#import-link")
    page.set_input_files("#id_file", str(data))
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"/imports/\d+/mapping/$"))
    expect(page.locator("select[name=col-1]")).to_have_value("mobile")
    page.select_option("#id_match_key", "email")
    page.click("#mapping-next")
    page.wait_for_url(re.compile(r"/imports/\d+/preview/$"))
    expect(page.locator("#preview-table tr[data-action=new]")).to_have_count(2)
    expect(page.locator("#preview-table tr[data-action=reject]")).to_have_count(1)
    page.click("#import-commit")
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator(".gx-job")).to_have_attribute("data-status", "done", timeout=15000)
    expect(page.locator("#import-result")).to_have_attribute("data-status", "done", timeout=15000)
    expect(page.locator("#download-rejected")).to_be_visible()
    page.goto("/contacts/")
    expect(page.locator("#results")).to_contain_text("欧阳娜娜")
    expect(page.locator("#results")).to_contain_text("Peter Wong")
    assert Contact.objects.get(name="欧阳娜娜").phone == "+8613912345678"
