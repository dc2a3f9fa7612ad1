"""Issue 5's browser path, in full: a customer submits a ticket in the portal; it is routed to the agent with the
right skill; the agent answers with a suggested article (and a file); the SLA clock pauses while the ticket waits
on the customer and resumes when they write; the agent resolves it, the customer rates it, and the KPIs move."""

import re

import pytest

from guanxi.knowledge import services as kb_services
from guanxi.service.models import SlaPolicy
from guanxi.service.ticket_models import Ticket
from tests.portal.conftest import customers_in, orgs  # noqa: F401
from tests.service.conftest import desk  # noqa: F401

from .test_browser import expect, log_in
from .test_portal import portal_log_in

pytestmark = [pytest.mark.e2e]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _kpi(page, measure: str):
    return page.locator(f"tr[data-group='total'] td[data-measure='{measure}'] .kpi-now")


def test_portal_ticket_routed_answered_paused_resumed_rated_and_counted(
        new_page, live_server, transactional_db, users, desk, customers_in, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    SlaPolicy.objects.update_or_create(priority="normal", classification="", defaults={
        "name": "标准", "first_response_minutes": 240, "resolution_minutes": 2400})
    article = kb_services.create_article(users["admin"], {
        "title": "打印机无法连接网络怎么办", "body": "重启打印机，再在面板上重新连接 Wi-Fi。",
        "visibility": "public", "status": "published"})

    manager = new_page()
    log_in(manager, "admin")
    manager.goto("/service/kpis/")
    expect(_kpi(manager, "csat_average")).to_have_text("—")
    expect(_kpi(manager, "resolved")).to_have_text("0")

    # The customer writes in the portal; the network group needs the network skill, which only 李 has.
    customer = new_page()
    portal_log_in(customer, "zhang.wei@xingchen.cn")
    customer.click("#new-ticket")
    customer.fill("#id_subject", "打印机无法连接网络")
    customer.select_option("#id_group", str(desk["network"].pk))
    customer.fill("#id_description", "办公室的打印机从昨天起连不上网络。")
    customer.click("#submit-ticket")
    expect(customer.locator("#ticket-title")).to_contain_text("打印机无法连接网络")
    ticket = Ticket.objects.get()
    assert ticket.owner == desk["li"] and ticket.channel == "portal", list(ticket.events.values("kind", "data"))

    # 李 answers with the suggested article's link and a file.
    agent = new_page()
    log_in(agent, "li")
    agent.goto("/service/my-queue/")
    agent.click(f"a[href='/service/tickets/{ticket.pk}/']")
    expect(agent.locator("#ticket-assignee")).to_contain_text("li")
    panel = agent.locator("#suggested-articles")
    expect(panel).to_contain_text(article.title)
    agent.fill("#message-body", "您好，请按这篇说明操作：")
    panel.locator(".insert-article").first.click()
    expect(agent.locator("#message-body")).to_have_value(
        re.compile(rf"请按这篇说明操作：\n{article.title}: http\S+/portal/kb/{article.pk}/"))
    manual = tmp_path / "设置步骤.pdf"
    manual.write_bytes(PDF)
    agent.set_input_files("#message-files", str(manual))
    agent.click("#send-reply")
    expect(agent.locator("#conversation")).to_contain_text(f"/portal/kb/{article.pk}/")
    expect(agent.locator("#conversation .message-file")).to_contain_text("设置步骤.pdf")

    # Waiting on the customer: the clock pauses.
    agent.click("#status-buttons button[data-status='waiting']")
    expect(agent.locator("[data-sla='paused']").first).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.paused_at is not None

    # The customer sees the answer with its link and file, and writes back: the clock runs again.
    customer.reload()
    expect(customer.locator("#conversation")).to_contain_text(f"/portal/kb/{article.pk}/")
    expect(customer.locator("#conversation")).to_contain_text("设置步骤.pdf")
    customer.fill("#reply-body", "按说明操作后可以连上了，谢谢！")
    customer.click("#send-reply")
    agent.reload()
    expect(agent.locator("#conversation")).to_contain_text("可以连上了")
    expect(agent.locator("#ticket-status")).to_have_text(re.compile("处理中|Open"))
    expect(agent.locator("[data-sla='paused']")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.paused_at is None and ticket.first_response_due_at is not None

    # Resolved, rated 5 by the customer; the agent sees the rating and the KPIs move.
    agent.click("#status-buttons button[data-status='resolved']")
    expect(agent.locator("#ticket-status")).to_have_text(re.compile("已解决|Resolved"))
    customer.reload()
    customer.click("#rate-ticket")
    customer.click("label[for='score-5']")
    customer.fill("#id_comment", "文章很有用")
    customer.click("#survey-submit")
    expect(customer.locator("#survey-thanks")).to_be_visible()
    agent.reload()
    expect(agent.locator("#csat-score")).to_have_text("5/5")

    manager.reload()
    expect(_kpi(manager, "resolved")).to_have_text("1")
    expect(_kpi(manager, "csat_average")).to_have_text(re.compile(r"^5(\.0+)?$"))
