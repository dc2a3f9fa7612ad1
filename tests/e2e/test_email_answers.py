"""An agent inserts a suggested knowledge-base article into the reply of an email ticket, in a real browser."""

import pytest

from guanxi.contact_center.email_ingest import ingest
from guanxi.contact_center.email_models import Mailbox
from guanxi.service.ticket_models import Ticket
from tests.contact_center.test_email_answers import QUESTION, articles  # noqa: F401 (fixture)

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_insert_a_suggested_article_into_the_reply(new_page, live_server, transactional_db, users, settings,
                                                   tmp_path, articles):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    mailbox = Mailbox.objects.create(name="客服", address="support@guanxi.test", imap_host="127.0.0.1",
                                     imap_user="x", auto_acknowledge=False)
    ingest(mailbox, QUESTION)
    ticket = Ticket.objects.get()
    page = new_page()
    log_in(page, "admin")
    page.goto(f"/service/tickets/{ticket.pk}/")
    row = page.locator(f"#kb-suggestions [data-article='{articles['reset'].pk}']")
    expect(row).to_contain_text("如何重置密码")
    page.fill("#message-body", "您好：")
    row.locator(".kb-insert").click()
    expect(page.locator("#message-body")).to_have_value(
        f"您好：如何重置密码: {settings.SITE_URL}/portal/kb/{articles['reset'].pk}/")
