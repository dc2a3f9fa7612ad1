"""An NPS survey in a real browser: a service manager sends one from the NPS page (reached from the customer
satisfaction report), the customer opens the e-mailed link without logging in, picks a score and writes the reason,
switches the page to English on the way; the manager then sees the answer and the NPS on the results page."""

import re

import pytest
from django.core import mail

from guanxi.customers import services as customers
from guanxi.service.nps_models import NpsResponse
from tests.service.conftest import desk  # noqa: F401

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_a_customer_answers_and_the_manager_sees_the_nps(new_page, live_server, transactional_db, users, desk,  # noqa: F811
                                                         settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    lead = desk["lead"]
    account = customers.create_account(lead, {"name": "上海明远科技有限公司", "classification": "A"})
    customers.create_contact(lead, {"name": "周婷", "account_ids": [account.pk], "emails": ["zhou.ting@mingyuan.cn"],
                                    "marketing_consent": True})

    manager = new_page()
    log_in(manager, "lead")
    manager.goto("/service/csat/")
    manager.click("#csat-to-nps")
    manager.fill("#nps-name", "重点客户满意度")
    manager.select_option("#nps-classification", "A")
    manager.click("#nps-send")
    manager.wait_for_url(re.compile(r"/service/nps/\d+/$"))
    expect(manager.locator("#nps-sent")).to_have_text("1")
    [message] = mail.outbox
    assert message.to == ["zhou.ting@mingyuan.cn"]
    link = re.search(r"https?://\S+", message.body).group(0)

    customer = new_page()
    customer.goto(link)
    expect(customer.locator("#nps-form")).to_be_visible()
    customer.click("#portal-language button[data-language='en']")  # the page speaks the customer's language
    expect(customer.locator("html")).to_have_attribute("lang", "en")
    expect(customer.locator("#nps-form legend")).to_have_text(
        "How likely are you to recommend us to a friend or colleague?")
    customer.click("label[for='score-9']")
    customer.fill("#id_reason", "响应很快，技术支持专业。")
    customer.click("#nps-submit")
    expect(customer.locator("#nps-thanks")).to_be_visible()
    expect(customer.locator("#nps-given")).to_have_text("9/10")
    customer.goto(link)
    expect(customer.locator("#nps-answered")).to_be_visible()  # once
    assert NpsResponse.objects.get().score == 9

    manager.reload()
    expect(manager.locator("#nps-score")).to_have_text("100.0")
    expect(manager.locator("#nps-responses")).to_have_text("1")
    row = manager.locator("#nps-answers tbody tr[data-category='promoter']")
    expect(row).to_contain_text("响应很快，技术支持专业。")
    expect(manager.locator("#nps-answers")).to_contain_text("周婷")
