"""Split: a second question asked in the same conversation becomes its own ticket (same customer and queue,
routed, own SLA), taking the chosen messages; merge from the ticket page by number. Bad input changes nothing."""

import pytest
from django.core.exceptions import ValidationError

from guanxi.customers import services as customer_services
from guanxi.service import services
from guanxi.service.ticket_models import Ticket, TicketMessage

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(desk, users):
    account = customer_services.create_account(users["rep_a"], {"name": "杭州云帆科技"})
    t = services.create_ticket(users["rep_a"], {"subject": "发票抬头错误", "account_id": account.pk,
                                                "question_group_id": desk["billing"].pk}, now=TUESDAY_10)
    for body in ("发票抬头应为杭州云帆", "另外：网络也经常断", "网络问题补充：每天下午"):
        services.reply(desk["wang"], t, body, now=TUESDAY_10)
    return t


def test_split_moves_the_chosen_messages_to_a_new_ticket_for_the_same_customer(desk, ticket):
    network = list(TicketMessage.objects.filter(ticket=ticket, body__contains="网络").values_list("pk", flat=True))
    new = services.split(desk["wang"], ticket, network, "网络经常断", now=TUESDAY_10)
    assert new.pk != ticket.pk and new.account_id == ticket.account_id and new.queue_id == ticket.queue_id
    assert new.first_response_due_at is not None and new.owner_id is not None
    assert set(new.messages.values_list("pk", flat=True)) == set(network)
    assert list(ticket.messages.values_list("body", flat=True)) == ["发票抬头应为杭州云帆"]
    assert ticket.events.get(kind="split").data["into"] == new.pk
    assert new.events.get(kind="split").data["source"] == ticket.pk


def test_split_refuses_bad_input_and_changes_nothing(desk, ticket):
    other = services.create_ticket(desk["lead"], {"subject": "别的工单"}, now=TUESDAY_10)
    stranger = services.reply(desk["lead"], other, "别人的消息", now=TUESDAY_10)
    every = list(ticket.messages.values_list("pk", flat=True))
    for ids, subject, field in (([], "x", "message_ids"), ([stranger.pk], "x", "message_ids"),
                                (["abc"], "x", "message_ids"), (every[:1], "", "subject"),
                                (every[:1], "长" * 201, "subject")):
        with pytest.raises(ValidationError) as refused:
            services.split(desk["wang"], ticket, ids, subject)
        assert field in refused.value.message_dict
    assert Ticket.objects.count() == 2 and ticket.messages.count() == 3


def test_pages_split_and_merge(client, desk, ticket):
    client.force_login(desk["wang"])
    page = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert 'id="split-form"' in page and 'form="split-form"' in page and 'id="merge-form"' in page
    last = ticket.messages.order_by("-id").first()
    done = client.post(f"/service/tickets/{ticket.pk}/split/", {"message_ids": [last.pk], "subject": "每天下午断网"})
    new = Ticket.objects.get(subject="每天下午断网")
    assert done.status_code == 302 and done["Location"].endswith(f"/service/tickets/{new.pk}/")
    refused = client.post(f"/service/tickets/{ticket.pk}/split/", {"subject": "x"}, follow=True)
    assert refused.status_code == 200 and Ticket.objects.count() == 2
    client.post(f"/service/tickets/{new.pk}/merge/", {"target": ticket.number.lower()})
    new.refresh_from_db()
    assert new.status == "closed" and new.merged_into_id == ticket.pk
    missing = client.post(f"/service/tickets/{ticket.pk}/merge/", {"target": "T999999"}, follow=True)
    assert "T999999" in missing.content.decode()


def test_api_split(client, desk, ticket):
    client.force_login(desk["wang"])
    first = ticket.messages.order_by("id").first()
    made = client.post(f"/api/v1/tickets/{ticket.pk}/split", {"message_ids": [first.pk], "subject": "抬头"},
                       content_type="application/json")
    assert made.status_code == 201 and made.json()["subject"] == "抬头"
    bad = client.post(f"/api/v1/tickets/{ticket.pk}/split", {"message_ids": [], "subject": ""},
                      content_type="application/json")
    assert bad.status_code == 400 and {"message_ids", "subject"} <= set(bad.json()["errors"])
