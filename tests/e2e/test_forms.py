"""A web form in a real browser: a shop page on another origin frames the form; a visitor fills it in and sends
it; the thanks show in the frame and the ticket exists, from the web-form channel, for a new contact."""

import pytest

from guanxi.contact_center import form_services
from guanxi.customers.models import Contact
from guanxi.service.models import QuestionGroup, Queue
from guanxi.service.ticket_models import Ticket

from .conftest import CHROMIUM_ARGS  # noqa: F401  (the browser fixture's settings)
from .test_browser import expect

pytestmark = [pytest.mark.e2e]


def test_a_form_framed_in_a_shop_page_is_filled_in_and_becomes_a_ticket(browser, asgi_server, shop_server, users,
                                                                          settings):
    settings.CC_FORM_MIN_SECONDS = 0  # the robot check on fill time: a test types faster than anyone
    SHOP, pages = shop_server
    queue = Queue.objects.create(name="售后")
    group = QuestionGroup.objects.create(name="设备故障", queue=queue)
    form = form_services.save_form(users["admin"], None, {
        "name": "报修", "kind": "ticket", "title_zh": "设备报修", "allowed_origins": [SHOP],
        "actor_id": users["admin"].pk, "question_group_id": group.pk, "consent_enabled": True,
        "consent_text_zh": "我同意接收产品资讯", "success_message": "已收到，我们会尽快联系您。",
        "fields": [{"label_zh": "姓名", "type": "text", "required": True, "target": "contact.name"},
                   {"label_zh": "手机", "type": "phone", "required": True, "target": "contact.phone"},
                   {"label_zh": "问题描述", "type": "textarea", "required": True, "target": "ticket.description"}]})
    pages["html"] = ('<!doctype html><html lang="zh-CN"><head><title>星辰商城</title></head><body><h1>报修</h1>'
                     f'<iframe id="repair" src="{asgi_server}/f/{form.public_key}/" style="width:100%;height:700px">'
                     '</iframe></body></html>').encode()
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(15000)
    shop = context.new_page()
    shop.goto(f"{SHOP}/repair")
    frame = shop.frame_locator("#repair")
    expect(frame.locator("h1")).to_have_text("设备报修")
    frame.locator("#gx-submit").click()  # nothing filled in: the answers required are named
    expect(frame.locator("#gx-errors")).to_be_visible()
    fields = {f["label_zh"]: f["key"] for f in form.fields}
    frame.locator(f"#gx-{fields['姓名']}").fill("赵敏")
    frame.locator(f"#gx-{fields['手机']}").fill("139 0000 1111")
    frame.locator(f"#gx-{fields['问题描述']}").fill("<b>监护仪</b>黑屏")
    frame.locator("#gx-consent").check()
    frame.locator("#gx-submit").click()
    expect(frame.locator("#gx-done")).to_have_text("已收到，我们会尽快联系您。")
    ticket = Ticket.objects.select_related("contact").get()
    assert ticket.channel == "web_form" and ticket.queue == queue and ticket.description == "<b>监护仪</b>黑屏"
    assert ticket.contact == Contact.objects.get(phone="+8613900001111") and ticket.contact.marketing_consent
    context.close()
