"""A contact's tickets in personal-data requests: the export holds them with their messages (and nobody
else's); erasure replaces their texts and the ticket's audit trail, and the tickets themselves stay."""

import json

import pytest

from guanxi.core.records import audit_trail
from guanxi.customers import services as customer_services
from guanxi.customers.privacy import erase_person, erased_text, export_person
from guanxi.service import services
from guanxi.service.ticket_models import Ticket, TicketMessage

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(users):
    rep = users["rep_a"]
    account = customer_services.create_account(rep, {"name": "杭州云帆科技"})
    zhang = customer_services.create_contact(rep, {"name": "张敏", "account_ids": [account.pk]})
    li = customer_services.create_contact(rep, {"name": "李强", "account_ids": [account.pk]})
    return account, zhang, li


def test_tickets_are_exported_and_erased_with_the_person(desk, users, people):
    account, zhang, li = people
    mine = services.create_ticket(users["rep_a"], {"subject": "张敏的发票地址写错了", "description": "寄到西湖区",
                                                 "account_id": account.pk, "contact_id": zhang.pk}, now=TUESDAY_10)
    services.reply(desk["lead"], mine, "张敏您好，已更正", now=TUESDAY_10)
    services.add_note(desk["lead"], mine, "她是老客户", now=TUESDAY_10)
    services.create_ticket(users["rep_a"], {"subject": "李强的网络问题", "account_id": account.pk,
                                          "contact_id": li.pk}, now=TUESDAY_10)

    data = export_person(users["admin"], zhang)
    [ticket] = data["tickets"]
    assert ticket["number"] == mine.number and ticket["subject"] == "张敏的发票地址写错了"
    assert [(m["kind"], m["body"]) for m in ticket["messages"]] == [
        ("reply", "张敏您好，已更正"), ("note", "她是老客户")]
    assert "李强的网络问题" not in json.dumps(data, ensure_ascii=False)

    erase_person(users["admin"], zhang, "PIPL request 7")
    mine.refresh_from_db()
    assert mine.subject == erased_text() and mine.description == ""
    assert set(TicketMessage.objects.filter(ticket=mine).values_list("body", flat=True)) == {erased_text()}
    trail = json.dumps([e.changes for e in audit_trail(mine)], ensure_ascii=False)
    assert "发票地址" not in trail and "西湖区" not in trail
    assert Ticket.objects.count() == 2
    assert Ticket.objects.get(contact=li).subject == "李强的网络问题"  # the other person's ticket is untouched
    erase_person(users["admin"], zhang, "PIPL request 7")  # again: nothing more to change, no error
