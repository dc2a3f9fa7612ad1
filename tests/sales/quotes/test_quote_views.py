"""The quote pages: lists without a query per row, the htmx line editor, the PDF, sending through a real
SMTP server, and the catalogue pages."""

import contextlib
import io
import socket
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.urls import reverse
from pypdf import PdfReader

from guanxi.customers.timeline import timeline_for
from guanxi.sales import quote_services as qs
from guanxi.sales.quote_models import Quote, QuoteStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, users):
    client.force_login(users["rep_a"])
    return client


def test_quote_list_shows_only_visible_quotes_without_a_query_per_row(rep_client, users, zhang, catalog, quote,
                                                                      account_b, django_assert_max_num_queries):
    for _i in range(4):
        qs.create_quote(users["rep_a"], {"account_id": zhang[0].pk})
    other = qs.create_quote(users["rep_b"], {"account_id": account_b.pk})
    with django_assert_max_num_queries(8):
        response = rep_client.get(reverse("sales:quote_list"))
    assert response.status_code == 200
    assert response.content.decode().count('data-id="') == 5
    assert str(other).encode() not in response.content
    assert rep_client.get(reverse("sales:quote_detail", args=[other.pk])).status_code == 404


def test_product_list_pages_and_searches_in_few_queries(rep_client, users, catalog, django_assert_max_num_queries):
    from guanxi.sales import catalog_services

    for n in range(6):
        catalog_services.create_product(users["admin"], {"code": f"CBL-{n}", "name": f"网线 {n} 米"})
    with django_assert_max_num_queries(6):
        response = rep_client.get(reverse("sales:product_list"), {"q": "网线"})
    assert response.content.decode().count('data-id="') == 6
    assert "服务器" not in response.content.decode()
    assert rep_client.get(reverse("sales:product_create")).status_code == 403  # reps read the catalogue


def test_editor_adds_changes_and_removes_lines_with_recalculated_totals(rep_client, quote, catalog):
    url = reverse("sales:quote_line_add", args=[quote.pk])
    response = rep_client.post(url, {"version": quote.version, "description": "上门调试", "quantity": "2",
                                     "unit_price": "500", "discount": "0"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="quote-lines"' in body
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.gross_total == Decimal("68573.00")
    assert 'id="total-gross">68573.00<' in body.replace(",", "")  # grouping depends on the language
    # A negative quantity: the table comes back with the error, nothing changes.
    response = rep_client.post(url, {"version": quote.version, "description": "x", "quantity": "-1",
                                     "unit_price": "1"}, HTTP_HX_REQUEST="true")
    assert 'id="line-errors"' in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).lines.count() == 3
    line = quote.lines.get(description="上门调试")
    rep_client.post(reverse("sales:quote_line_update", args=[quote.pk, line.pk]),
                    {"version": quote.version, "quantity": "4"}, HTTP_HX_REQUEST="true")
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.gross_total == Decimal("69573.00")
    rep_client.post(reverse("sales:quote_line_remove", args=[quote.pk, line.pk]), {"version": quote.version},
                    HTTP_HX_REQUEST="true")
    assert Quote.objects.get(pk=quote.pk).gross_total == Decimal("67573.00")
    picker = rep_client.get(reverse("sales:quote_product_pick", args=[quote.pk]), {"product_q": "SRV"})
    assert "28000.00" in picker.content.decode().replace(",", "")


def test_pdf_has_the_number_a_chinese_product_and_the_total(rep_client, quote):
    response = rep_client.get(reverse("sales:quote_pdf", args=[quote.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert quote.number in text
    assert "服务器" in text and "实施服务" in text
    assert "67,573.00" in text
    assert "关系软件" in text  # the letterhead


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


def use_smtp(settings, port: int) -> None:
    """Django sends mail through the SMTP server on this local port (whether one listens there yet or not)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@contextlib.contextmanager
def smtp_server(port: int):
    """A real SMTP server (aiosmtpd) on `port` while the block runs; yields the Inbox it fills."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings):
    port = _free_port()
    use_smtp(settings, port)
    with smtp_server(port) as inbox:
        yield inbox


def test_send_emails_the_pdf_through_smtp_marks_sent_and_shows_on_the_timeline(rep_client, quote, users, zhang,
                                                                              smtp):
    response = rep_client.post(reverse("sales:quote_send", args=[quote.pk]),
                               {"version": quote.version, "to": "", "message": "张经理您好，报价请查收。"})
    assert response.status_code == 302
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "zhang.wei@xingchen.cn" or message["To"].lower() == "zhang.wei@xingchen.cn"
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1
    pdf = PdfReader(io.BytesIO(attachments[0].get_payload(decode=True)))
    assert quote.number in pdf.pages[0].extract_text()
    sent = Quote.objects.get(pk=quote.pk)
    assert sent.status == QuoteStatus.SENT and sent.sent_at is not None
    items = timeline_for(zhang[0], users["rep_a"])
    assert any(i.kind == "quote" and quote.number in i.title for i in items)


def test_send_is_refused_and_changes_nothing_when_the_server_is_down(rep_client, quote, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nothing listens
    rep_client.post(reverse("sales:quote_send", args=[quote.pk]), {"version": quote.version})
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT


def test_quote_detail_and_catalogue_pages_render(client, users, quote, catalog):
    client.force_login(users["manager_a"])
    for url in (reverse("sales:quote_detail", args=[quote.pk]), reverse("sales:price_list_list"),
                reverse("sales:price_list_detail", args=[catalog["cny"].pk]), reverse("sales:product_create"),
                reverse("sales:product_edit", args=[catalog["server"].pk]), reverse("sales:order_list"),
                reverse("sales:quote_create") + f"?account={quote.account_id}", reverse("sales:quote_edit",
                                                                                        args=[quote.pk])):
        assert client.get(url).status_code == 200, url
    response = client.post(reverse("sales:product_create"), {"code": "SRV-740", "name": "重复", "kind": "goods",
                                                             "unit": "piece", "tax_rate": "13"})
    assert response.status_code == 200 and 'data-field="code"' in response.content.decode()


def test_a_quote_opened_from_a_won_opportunity_stays_linked_to_it(rep_client, users, deal, stages, catalog):
    """The quote form lists open opportunities; the one it was opened from is offered (and kept) even once won."""
    from guanxi.sales import services

    won = services.move_stage(users["rep_a"], deal, stages["won"].pk, deal.version)
    url = reverse("sales:quote_create") + f"?opportunity={won.pk}"
    page = rep_client.get(url).content.decode()
    assert f'<option value="{won.pk}" selected>' in page
    response = rep_client.post(url, {"account_id": won.account_id, "opportunity_id": won.pk,
                                     "contact_id": won.contact_id, "title": "CT 设备正式报价"})
    quote = Quote.objects.get(title="CT 设备正式报价")
    assert response.status_code == 302 and quote.opportunity_id == won.pk and quote.contact_id == won.contact_id
    assert f'<option value="{won.pk}" selected>' in rep_client.get(
        reverse("sales:quote_edit", args=[quote.pk])).content.decode()


def test_the_quote_page_shows_line_changes_in_its_history(rep_client, users, quote, catalog, english):
    """Adding a line is audited as the number of lines (a reverse relation, no field of the quote): the history
    names it by the lines' model instead of breaking the page."""
    quote = qs.add_lines(users["rep_a"], quote, [{"description": "运费", "quantity": "1", "unit_price": "300"}],
                         quote.version)
    response = rep_client.get(reverse("sales:quote_detail", args=[quote.pk]))
    assert response.status_code == 200
    assert "Quote lines" in response.content.decode()


def test_a_line_added_with_htmx_keeps_the_send_forms_version_current(rep_client, quote, smtp):
    """The send form is outside the swapped lines table: the answer updates its version out of band, so the
    quote can be emailed right after a line change without reloading the page."""
    page = rep_client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert f'value="{quote.version}" id="send-version"' in page
    response = rep_client.post(reverse("sales:quote_line_add", args=[quote.pk]),
                               {"version": quote.version, "description": "运费", "quantity": "1",
                                "unit_price": "300"}, HTTP_HX_REQUEST="true")
    version = Quote.objects.get(pk=quote.pk).version
    assert version == quote.version + 1
    oob = f'<input type="hidden" name="version" value="{version}" id="send-version" hx-swap-oob="true">'
    assert oob in response.content.decode()
    rep_client.post(reverse("sales:quote_send", args=[quote.pk]), {"version": version, "to": ""})
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT and len(smtp.messages) == 1
