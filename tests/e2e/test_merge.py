"""Duplicates in a real browser: typing a contact that exists shows it as a possible duplicate; the review
queue; compare, pick a value, merge; the survivor carries both notes and the merge on its timeline; undo."""

import re

import pytest

from guanxi.activities.services import add_note
from guanxi.customers import services
from guanxi.customers.models import Contact
from guanxi.quality.models import DuplicatePair

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_merge_and_undo(new_page, live_server, transactional_db, users):
    rep = users["rep_a"]
    first = services.create_contact(rep, {"name": "王小明", "title": "采购经理", "phones": ["13800138000"]})
    second = services.create_contact(rep, {"name": "汪晓明", "title": "经理", "phones": ["+86 138 0013 8000"],
                                           "emails": ["xiaoming@moon.cn"]})
    add_note(rep, first, "第一次拜访")
    add_note(rep, second, "电话回访，要报价")
    # Saving 汪晓明 already queued the pair (the on-entry check); the scan would add its field levels.
    pair = DuplicatePair.objects.get(kind="contact", record_1=first.pk, record_2=second.pk)
    pair.levels = {"name": "close", "phone": "exact"}
    pair.save()
    page = new_page()
    log_in(page, "rep_a")

    # On entry: typing the same man again shows both as possible duplicates.
    page.goto("/contacts/new/")
    page.fill("#id_name", "王晓明")
    page.fill("#id_phones", "138 0013 8000")
    found = page.locator("#possible-duplicates-list")
    expect(found).to_contain_text("王小明")
    expect(found).to_contain_text("汪晓明")

    # The review queue, then compare.
    page.goto("/quality/duplicates/")
    row = page.locator(f"#duplicate-pairs tr[data-pair='{pair.pk}']")
    expect(row).to_contain_text("汪晓明")
    row.locator(".gx-compare-link").click()
    page.wait_for_url(f"**/quality/duplicates/{pair.pk}/")
    expect(page.locator("#compare-table tr[data-field='phone']")).to_contain_text("exact")
    # Keep 王小明's record, but 汪晓明's spelling of the name.
    page.check("tr[data-field='name'] input[value='2']")
    page.click("#merge-button")
    page.wait_for_url(re.compile(r"/quality/merges/\d+/$"))
    page.click("#open-survivor")
    page.wait_for_url(f"**/contacts/{first.pk}/")
    expect(page.locator("#record-name")).to_contain_text("汪晓明")
    expect(page.locator("#timeline")).to_contain_text("第一次拜访")
    expect(page.locator("#timeline")).to_contain_text("电话回访，要报价")
    expect(page.locator("#timeline li[data-kind='merge']").first).to_be_visible()
    assert not Contact.objects.filter(pk=second.pk).exists()

    # Undo: both are back as they were.
    page.go_back()
    page.click("#undo-merge")
    page.wait_for_url(f"**/contacts/{second.pk}/")
    expect(page.locator("#record-name")).to_contain_text("汪晓明")
    expect(page.locator("#timeline")).to_contain_text("电话回访，要报价")
    assert Contact.objects.get(pk=first.pk).name == "王小明"
