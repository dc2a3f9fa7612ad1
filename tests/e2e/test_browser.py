"""A rep's day in a real browser: log in, create an account and a contact, find him by initials and by a
phone typed another way, edit him, see the change in his history, switch the language; and another
team's rep is refused."""

import re

import pytest

from guanxi.customers import services
from guanxi.customers.models import Account, Contact

pytestmark = [pytest.mark.e2e]

ACCOUNT = "北京星辰医疗科技有限公司"


def expect(target):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(target)


def log_in(page, username: str, password: str = "correct-horse-9") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def switch_language(page, code: str) -> None:
    page.click("#language-menu")
    page.click(f".gx-language-form button[data-language='{code}']")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_a_reps_day(new_page, live_server, transactional_db, users):
    page = new_page()
    log_in(page, "rep_a")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # A new account.
    page.click("nav >> a[href='/accounts/']")
    page.click("#new-record")
    page.fill("#id_name", ACCOUNT)
    page.select_option("#id_classification", "A")
    page.select_option("#id_industry", "healthcare")
    page.fill("#id_tags", "医院, 重点客户")
    page.fill("[name='addresses.0.line']", "北京市朝阳区建国路88号")
    page.click("#save-record")
    expect(page.locator("#record-name")).to_contain_text(ACCOUNT)
    account = Account.objects.get(name=ACCOUNT)
    assert account.addresses.get().district == "朝阳区"

    # A contact linked to it through the account picker.
    page.goto("/contacts/new/")
    page.fill("#id_name", "张伟")
    page.fill("#id_title", "采购经理")
    page.fill("#id_phones", "13800138000")
    page.fill("#id_emails", "zhang.wei@xingchen.cn")
    page.fill("#picker-account_ids", "星辰医疗")
    page.click(f".gx-picker-results label[data-account='{account.pk}'] input")
    expect(page.locator(f".gx-picker-selected label[data-account='{account.pk}'] input")).to_be_checked()
    page.click("#save-record")
    expect(page.locator("#record-name")).to_contain_text("张伟")
    contact = Contact.objects.get(name="张伟")
    assert contact.primary_account_id == account.pk and contact.phone == "+8613800138000"
    expect(page.locator("#contact-accounts")).to_contain_text(ACCOUNT)

    # Found by his initials in the live drop-down...
    page.goto("/")
    page.fill("#top-search", "zw")
    suggestion = page.locator("#search-suggest a", has_text="张伟")
    expect(suggestion).to_be_visible()
    suggestion.click()
    page.wait_for_url(f"**/contacts/{contact.pk}/")
    # ... and by his phone typed another way, on the results page.
    page.fill("#top-search", "+86 138 0013 8000")
    page.press("#top-search", "Enter")
    page.wait_for_url("**/search/?q=*")
    expect(page.locator("#search-contacts")).to_contain_text("张伟")
    page.locator("#search-contacts a", has_text="张伟").click()
    page.wait_for_url(f"**/contacts/{contact.pk}/")

    # Edit him; the change shows in his timeline and audit trail.
    page.click("#edit-record")
    page.fill("#id_title", "总经理")
    page.click("#save-record")
    expect(page.locator("#record-title")).to_have_text("总经理")
    change = page.locator("#timeline [data-change-field='title']").first
    expect(change).to_contain_text("采购经理")
    expect(change).to_contain_text("总经理")
    page.click("#tab-audit")
    expect(page.locator("#audit-trail [data-change-field='title']").first).to_contain_text("总经理")

    # A note, added in place with htmx.
    page.click("#tab-timeline")
    page.fill("#note-body", "电话沟通：下周拜访，带报价。")
    page.click("#note-form button[type=submit]")
    expect(page.locator("#timeline li[data-kind='note']").first).to_contain_text("下周拜访")

    # The language switch, to English and back.
    home_link = page.locator("#main-nav a.nav-link[href='/']")
    switch_language(page, "en")
    expect(page.locator(".gx-language-form button[data-language='en']")).to_have_class(re.compile("active"))
    expect(home_link).to_have_text("Home")
    page.wait_for_url(f"**/contacts/{contact.pk}/")  # the switch returns to the same page
    switch_language(page, "zh-hans")
    expect(page.locator(".gx-language-form button[data-language='zh-hans']")).to_have_class(re.compile("active"))
    expect(home_link).not_to_have_text("Home")

    # The account list filters in place (htmx) and keeps the filter in the address bar.
    page.goto("/accounts/")
    page.select_option("#id_classification", "A")
    page.wait_for_url(re.compile(r"classification=A"))
    assert "q=" not in page.url  # empty filters stay out of the address
    expect(page.locator("#account-table")).to_contain_text(ACCOUNT)
    # ... and the filtered list can be saved as a view.
    page.fill("#saved-view-form [name=name]", "A类客户")
    page.click("#saved-view-form button[type=submit]")
    saved = page.locator("#saved-views a[data-saved-view='A类客户']")
    expect(saved).to_have_attribute("href", re.compile(r"classification=A"))


def test_another_teams_rep_gets_a_404(new_page, live_server, transactional_db, users):
    account = services.create_account(users["rep_a"], {"name": ACCOUNT})
    page = new_page()
    log_in(page, "rep_b")
    response = page.goto(f"/accounts/{account.pk}/")
    assert response.status == 404
    page.goto("/")
    page.fill("#top-search", "星辰")
    page.press("#top-search", "Enter")
    page.wait_for_url("**/search/?q=*")
    expect(page.locator("#search-accounts")).not_to_contain_text(ACCOUNT)


def test_phone_sized_screen(new_page, live_server, transactional_db, users):
    services.create_account(users["rep_a"], {"name": ACCOUNT, "classification": "A"})
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(page, "rep_a")
    page.goto("/accounts/")
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    toggler.click()
    expect(page.locator("#main-nav a[href='/contacts/']")).to_be_visible()
    expect(page.locator("#account-table")).to_contain_text(ACCOUNT)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"


@pytest.mark.parametrize("width", [1024, 1366])
def test_the_menu_keeps_its_words_whole_on_a_laptop_screen(new_page, live_server, transactional_db, users, width):
    """Chinese menu items broke into one character a line at 1366 px; they keep whole, and the page does not
    scroll sideways, as the administrator (the longest menu)."""
    page = new_page(viewport={"width": width, "height": 800})
    log_in(page, "admin")
    links = page.locator("#main-nav > .navbar-nav > .nav-item > .nav-link")
    assert links.count() >= 10
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#main-nav .nav-link')).lineHeight)")
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["height"] < 2 * line, f"{links.nth(i).inner_text()!r} takes {box['height']}px"
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_admin_rebuilds_the_search_index_and_watches_it(new_page, live_server, transactional_db, users, settings):
    pytest.importorskip("guanxi.core.jobs")
    # The job runs inside the request here (no worker in tests); the page still polls its progress bar.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services.create_account(users["rep_a"], {"name": ACCOUNT})
    page = new_page()
    log_in(page, "admin")
    page.click("#rebuild-search")
    job = page.locator("#job-area .gx-job").first
    expect(job).to_have_attribute("data-status", "done", timeout=10000)
    expect(job.locator(".progress-bar")).to_have_text("100%")
    page.click("#nav-settings")  # the Settings menu holds Jobs
    page.click("nav >> a[href='/jobs/']")
    expect(page.locator("#job-area .gx-job[data-status='done']")).to_have_count(1)
