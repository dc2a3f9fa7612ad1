"""Ticket use cases: routed at creation (senior queue for key accounts, skills, capacity), SLA due times in
business time that pause while waiting on the customer, replies, notes, status workflow, assignment, merge;
every change audited, refusals leaving everything as it was; who sees which ticket."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.records import EditConflict, audit_trail
from guanxi.customers import services as customer_services
from guanxi.customers.timeline import timeline_for
from guanxi.service import services
from guanxi.service.models import Ticket, TicketMessage

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def plain_account(users):
    return customer_services.create_account(users["rep_a"], {"name": "上海普通贸易公司", "classification": "C"})


def _new(actor, account=None, **data):
    data = {"subject": "发票抬头错误", "description": "请重开发票", **data}
    if account is not None:
        data["account_id"] = account.pk
    return services.create_ticket(actor, data, now=TUESDAY_10)


def test_create_routes_at_once_and_sets_sla_due_times_in_business_time(desk, users, plain_account):
    ticket = _new(users["rep_a"], plain_account, question_group_id=desk["billing"].pk)
    assert ticket.number == f"T{ticket.pk:06d}" and ticket.status == "new"
    assert ticket.queue == desk["general"] and ticket.owner == desk["wang"] and ticket.assigned_at == TUESDAY_10
    # normal priority: 240 business minutes from Tuesday 10:00 (lunch 12:00–13:30) → 15:30 Shanghai
    assert ticket.first_response_due_at == dt.datetime(2026, 3, 10, 7, 30, tzinfo=dt.UTC)
    # 1440 minutes = 3.2 working days of 450 → Friday 11:30 Shanghai
    assert ticket.resolution_due_at == dt.datetime(2026, 3, 13, 3, 30, tzinfo=dt.UTC)
    assert [e.kind for e in ticket.events.order_by("id")] == ["created", "routed"]
    assert audit_trail(ticket).get().action == "create"


def test_key_account_goes_to_the_senior_queue_first(desk, users, zhang):
    account, contact = zhang
    ticket = _new(users["rep_a"], account, contact_id=contact.pk, question_group_id=desk["billing"].pk)
    assert ticket.queue == desk["vip"] and ticket.owner == desk["li"]
    assert ticket.events.get(kind="routed").data["senior"] is True


def test_skills_route_and_capacity_is_never_exceeded(desk, users, plain_account):
    network = [_new(users["rep_a"], plain_account, question_group_id=desk["network"].pk) for _ in range(3)]
    assert [t.owner_id for t in network[:2]] == [desk["li"].pk] * 2
    assert network[2].owner is None
    assert network[2].events.get(kind="unrouted").data["reason"] == "all_at_capacity"
    billing = [_new(users["rep_a"], plain_account, question_group_id=desk["billing"].pk) for _ in range(5)]
    owners = [t.owner_id for t in billing]
    assert owners.count(None) == 1 and owners.count(desk["wang"].pk) == 2 and owners.count(desk["zhao"].pk) == 2


def test_bad_input_names_the_fields_and_creates_nothing(desk, users):
    with pytest.raises(ValidationError) as exc:
        services.create_ticket(users["rep_a"], {"subject": "", "priority": "asap", "question_group_id": 999,
                                                "account_id": 999})
    assert set(exc.value.message_dict) == {"subject", "priority", "question_group_id", "account_id"}
    assert not Ticket.objects.exists()


def test_reply_stamps_first_response_note_does_not_and_closed_refuses_replies(desk, users, plain_account):
    ticket = _new(users["rep_a"], plain_account)
    services.add_note(desk["wang"], ticket, "客户是老用户", now=TUESDAY_10 + dt.timedelta(minutes=5))
    ticket.refresh_from_db()
    assert ticket.first_response_at is None and ticket.picked_up_at is not None
    services.reply(desk["wang"], ticket, "您好，已为您重开发票。", now=TUESDAY_10 + dt.timedelta(minutes=9))
    ticket.refresh_from_db()
    assert ticket.first_response_at == TUESDAY_10 + dt.timedelta(minutes=9) and ticket.status == "open"
    assert list(ticket.messages.order_by("id").values_list("kind", flat=True)) == ["note", "reply"]
    services.change_status(desk["wang"], ticket, "closed", ticket.version)
    with pytest.raises(ValidationError) as exc:
        services.reply(desk["wang"], ticket, "再补充一句")
    assert "body" in exc.value.message_dict and ticket.messages.count() == 2
    with pytest.raises(ValidationError):
        services.reply(desk["wang"], ticket, "   ")


def test_waiting_on_customer_pauses_the_clock_and_moves_due_times_on(desk, users, plain_account):
    ticket = _new(users["rep_a"], plain_account)
    due = ticket.resolution_due_at
    services.change_status(desk["wang"], ticket, "waiting", ticket.version, now=TUESDAY_10)
    ticket.refresh_from_db()
    assert ticket.paused_at == TUESDAY_10
    # Paused from Tuesday 10:00 to 14:30: 120 + 60 business minutes (the lunch break does not count).
    services.change_status(desk["wang"], ticket, "open", ticket.version,
                           now=TUESDAY_10 + dt.timedelta(hours=4, minutes=30))
    ticket.refresh_from_db()
    assert ticket.paused_at is None and ticket.paused_minutes == 180
    # Friday 11:30 + 180: 30 before lunch, 150 after 13:30 → 16:00 Shanghai
    assert ticket.resolution_due_at == dt.datetime(2026, 3, 13, 8, 0, tzinfo=dt.UTC)
    assert due < ticket.resolution_due_at


def test_only_allowed_transitions_and_stale_versions_are_refused(desk, users, plain_account):
    ticket = _new(users["rep_a"], plain_account)
    with pytest.raises(ValidationError) as exc:
        services.change_status(desk["wang"], ticket, "flying", ticket.version)
    assert "status" in exc.value.message_dict
    services.change_status(desk["wang"], ticket, "resolved", ticket.version)
    ticket.refresh_from_db()
    with pytest.raises(EditConflict):
        services.change_status(desk["wang"], ticket, "open", ticket.version - 1)
    services.change_status(desk["wang"], ticket, "open", ticket.version)  # reopen
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.resolved_at is None
    services.change_status(desk["wang"], ticket, "closed", ticket.version)
    ticket.refresh_from_db()
    with pytest.raises(ValidationError):
        services.change_status(desk["wang"], ticket, "open", ticket.version)
    assert [e.data["new"] for e in ticket.events.filter(kind="status").order_by("id")] == ["resolved", "open", "closed"]


def test_assign_checks_who_and_capacity(desk, users, plain_account):
    first, second, third = (_new(users["rep_a"], plain_account, question_group_id=desk["network"].pk)
                            for _ in range(3))
    assert third.owner is None
    with pytest.raises(ValidationError) as exc:
        services.assign(desk["lead"], third, desk["li"].pk, third.version)  # li holds two already
    assert "assignee_id" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.assign(desk["wang"], third, desk["zhao"].pk, third.version)  # an agent gives only to themselves
    services.assign(desk["lead"], third, desk["zhao"].pk, third.version)
    third.refresh_from_db()
    assert third.owner == desk["zhao"] and audit_trail(third).first().action == "assign"


def test_merge_moves_the_conversation_and_closes_the_other(desk, users, plain_account):
    keep, dup = _new(users["rep_a"], plain_account), _new(users["rep_a"], plain_account, subject="重复")
    services.reply(desk["wang"], dup, "收到")
    services.merge(desk["wang"], dup, keep)
    dup.refresh_from_db()
    assert dup.status == "closed" and dup.merged_into == keep
    assert TicketMessage.objects.filter(ticket=keep).count() == 2  # the reply and the description as a note
    with pytest.raises(ValidationError):
        services.merge(desk["wang"], keep, keep)


def test_who_sees_which_ticket(desk, users, plain_account):
    ticket = _new(users["rep_a"], plain_account, question_group_id=desk["billing"].pk)
    visible = {name: Ticket.objects.visible_to(u).filter(pk=ticket.pk).exists()
               for name, u in {**users, **{k: desk[k] for k in ("lead", "wang", "li", "zhao")}}.items()}
    assert visible == {"admin": True, "manager_a": True, "rep_a": True, "rep_a2": False, "rep_b": False,
                       "viewer": True, "lead": True, "wang": True, "li": True, "zhao": True}
    other = services.create_ticket(users["admin"], {"subject": "无队列", "queue_id": desk["vip"].pk}, now=TUESDAY_10)
    assert not Ticket.objects.visible_to(desk["zhao"]).filter(pk=other.pk).exists()  # not in the VIP queue
    assert Ticket.objects.visible_to(desk["li"]).filter(pk=other.pk).exists()
    titles = [item.title for item in timeline_for(plain_account, users["rep_a"])]
    assert any(ticket.number in t for t in titles)


def test_a_ticket_in_a_regional_language_code_goes_to_an_agent_speaking_the_language(desk, users):
    """The portal stores Django's code ("zh-hans"); agents list "zh": the same language for routing."""
    for language in ("zh-hans", "zh-CN", "ZH"):
        ticket = services.create_ticket(users["admin"], {"subject": f"无法登录 {language}", "language": language,
                                                         "question_group_id": desk["billing"].pk}, now=TUESDAY_10)
        assert ticket.owner is not None, language
    ticket = services.create_ticket(users["admin"], {"subject": "Bonjour", "language": "fr-FR",
                                                     "question_group_id": desk["billing"].pk}, now=TUESDAY_10)
    assert ticket.owner is None and ticket.events.filter(kind="unrouted", data__reason="missing_language").exists()
