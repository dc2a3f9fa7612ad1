"""The customer portal in a real browser: a customer submits a ticket, an agent answers and resolves it in the
CRM, the customer sees the answer and rates it, and the rating shows on the agent's ticket page."""

import re

import pytest
from django.core import mail

from guanxi.service.ticket_models import Ticket
from tests.portal.conftest import PASSWORD, customers_in, orgs  # noqa: F401
from tests.service.conftest import desk  # noqa: F401

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def portal_log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/portal/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", password)
    page.click("#portal-login")
    page.wait_for_url(re.compile(r"/portal/$"))


def test_customer_ticket_answer_and_rating(new_page, live_server, transactional_db, users, desk,  # noqa: F811
                                           customers_in):  # noqa: F811
    customer = new_page()
    portal_log_in(customer, "zhang.wei@xingchen.cn")
    customer.click("#new-ticket")
    customer.fill("#id_subject", "打印机无法连接网络")
    customer.select_option("#id_group", str(desk["billing"].pk))
    customer.fill("#id_description", "办公室的打印机从昨天起连不上网络。")
    customer.click("#submit-ticket")
    expect(customer.locator("#ticket-title")).to_contain_text("打印机无法连接网络")
    ticket = Ticket.objects.get()

    agent = new_page()
    log_in(agent, "admin")
    agent.goto(f"/service/tickets/{ticket.pk}/")
    agent.fill("#message-body", "您好，请重启打印机并重新连接 Wi-Fi。")
    agent.click("#send-reply")
    expect(agent.locator("#conversation")).to_contain_text("请重启打印机")
    agent.click("#status-buttons button[data-status='resolved']")
    expect(agent.locator("#ticket-status")).to_have_text(re.compile("已解决|Resolved"))
    assert any(ticket.number in m.subject for m in mail.outbox)  # the survey e-mail

    customer.reload()
    expect(customer.locator("#conversation")).to_contain_text("请重启打印机")
    customer.click("#rate-ticket")
    customer.click("label[for='score-5']")
    customer.fill("#id_comment", "很快就解决了")
    customer.click("#survey-submit")
    expect(customer.locator("#survey-thanks")).to_be_visible()

    agent.reload()
    expect(agent.locator("#csat-score")).to_have_text("5/5")
    expect(agent.locator("#csat-comment")).to_contain_text("很快就解决了")
