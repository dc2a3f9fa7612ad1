"""The public pool in a real browser: a rep claims an account from the 公海 page, sees its return date on the
account page, and releases it back with a reason."""

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.customers import services
from guanxi.customers.models import Account, PoolRule

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_claim_from_the_pool_page_then_release(new_page, live_server, transactional_db, users):
    PoolRule.objects.create(classification="B", return_days=30, warn_days=5, cooldown_days=7)
    account = services.create_account(
        users["admin"], {"name": "杭州云帆科技有限公司", "classification": "B", "owner_id": None}
    )
    detail = reverse("customers:account_detail", args=[account.pk])  # also loads the URLconf before the browser asks
    page = new_page()
    log_in(page, "rep_a")
    page.click("#nav-pool")
    page.wait_for_url("**/pool/")
    expect(page.locator("#pool-table")).to_contain_text("杭州云帆科技有限公司")
    page.click(f"[data-claim='{account.pk}']")
    expect(page.locator("#messages")).to_contain_text("杭州云帆科技有限公司")
    expect(page.locator("#pool-table")).not_to_contain_text("杭州云帆科技有限公司")
    assert Account.objects.get(pk=account.pk).owner == users["rep_a"]

    page.goto(detail)
    due = timezone.localtime(Account.objects.get(pk=account.pk).pool_due_at).strftime("%Y-%m-%d")
    expect(page.locator("#pool-box")).to_contain_text(due)
    page.fill("#release-reason", "客户今年无预算")
    page.click("#release-form button[type='submit']")
    expect(page.locator("#claim-account")).to_be_visible()
    assert Account.objects.get(pk=account.pk).owner_id is None
