"""Three pages in a real browser: printing the checked contacts from the list's print bar, the data-health figures
and the lists they open, and a personal-data export and erasure by an administrator."""

import io
import json
import re

import pytest

from guanxi.customers import services
from guanxi.customers.models import Contact

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def people(users):
    """rep_a's contacts: three with an email, two without; rep_b's contact without one is not rep_a's to see."""
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "北京星辰医疗科技有限公司"})
    made = {}
    for name, phone, email in [("张伟", "138 0013 8000", "zhang.wei@example.cn"),
                               ("欧阳娜娜", "139 1234 5678", "nana@example.cn"),
                               ("Peter Wong", "+86 138-0000-1111", "peter@example.com"),
                               ("李娜", "137 0013 7000", ""), ("王芳", "", "")]:
        made[name] = services.create_contact(rep, {
            "name": name, "account_ids": [account.pk], "phones": [phone] if phone else [],
            "emails": [email] if email else [], "addresses": ["北京市朝阳区建国路88号"]})
    services.create_contact(users["rep_b"], {"name": "赵强"})
    return made


def _number(n):
    """The figure n alone in a text in either language ("2 missing", "缺 2 项"), not 12 or 20."""
    return re.compile(rf"(^|\D){n}(\D|$)")


def _row(page, contact):
    return page.locator(f"#contact-table tr[data-id='{contact.pk}']")


def test_print_the_selected_contacts_as_an_address_list_and_labels(new_page, live_server, transactional_db, users,
                                                                   people):
    from pypdf import PdfReader

    page = new_page()
    log_in(page, "rep_a")
    page.goto("/contacts/")
    expect(page.locator("#print-selected")).to_be_disabled()  # nothing checked: nothing to print
    for name in ("张伟", "Peter Wong"):
        _row(page, people[name]).locator("input[name=ids]").check()
    expect(page.locator("[data-bulk-count]").first).to_have_text("2")
    for layout in ("address_list", "labels_a4_3x7"):
        page.select_option("#print-layout", layout)
        with page.expect_download() as download:
            page.click("#print-selected")
        pdf = download.value.path().read_bytes()
        assert pdf.startswith(b"%PDF-"), layout
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "张伟" in text and "Peter Wong" in text, (layout, text)
        assert "欧阳娜娜" not in text and "李娜" not in text, layout  # only the checked rows
    expect(page).to_have_url(re.compile(r"/contacts/$"))  # the list stays where it was


def test_data_health_figure_opens_exactly_those_contacts(new_page, live_server, transactional_db, users, people):
    page = new_page()
    log_in(page, "rep_a")
    page.goto("/quality/health/")
    section = page.locator("#health-contact")
    expect(section.locator(".card-header .badge")).to_have_text("5")  # rep_b's contact is not counted
    missing_email = section.locator("tr[data-figure=missing-email] a")
    expect(missing_email).to_have_text(_number(2))
    expect(section.locator("tr[data-figure=missing-phone] a")).to_have_text(_number(1))
    missing_email.click()
    page.wait_for_url(re.compile(r"/contacts/\?missing=email$"))
    rows = page.locator("#contact-table tbody tr[data-id]")
    expect(rows).to_have_count(2)
    ids = {int(rows.nth(i).get_attribute("data-id")) for i in range(2)}
    assert ids == {people["李娜"].pk, people["王芳"].pk}


def test_admin_exports_and_erases_a_contacts_personal_data(new_page, live_server, transactional_db, users, people):
    zhang = people["张伟"]
    page = new_page()
    log_in(page, "admin")
    page.goto(f"/contacts/{zhang.pk}/")
    with page.expect_download() as download:
        page.click("#export-personal-data")
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["contact"]["name"] == "张伟" and data["contact"]["phone"] == "+8613800138000"
    assert [p["value"] for p in data["phones"]] == ["138 0013 8000"]

    page.click("#erase-personal-data")
    page.wait_for_url(re.compile(rf"/contacts/{zhang.pk}/erase/$"))
    page.fill("#id_name", "张三")  # not his name: refused, nothing erased
    page.fill("#id_reason", "本人要求删除（2024-05-01 来信）")
    page.click("#confirm-erase")
    expect(page.locator("#erase-form .invalid-feedback")).to_be_visible()
    assert Contact.objects.get(pk=zhang.pk).phone == "+8613800138000"
    page.fill("#id_name", "张伟")
    page.click("#confirm-erase")
    page.wait_for_url(re.compile(rf"/contacts/{zhang.pk}/$"))

    page.goto("/contacts/")
    row = _row(page, zhang)
    expect(row).to_have_count(1)  # the record stays, so counts and reports do not change
    expect(row).not_to_contain_text("张伟")
    expect(row.locator("a[href^='tel:']")).to_have_count(0)
    expect(row.locator("a[href^='mailto:']")).to_have_count(0)
    expect(_row(page, people["欧阳娜娜"]).locator("a[href^='tel:']")).to_have_count(1)  # the others keep theirs
