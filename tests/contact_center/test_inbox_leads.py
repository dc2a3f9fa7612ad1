"""Leads from the one inbox: an email ticket, a web-form ticket, a missed call or a chat becomes a lead with what
the conversation tells about the prospect, or is linked to an existing lead the agent may see; the lead's page lists
its conversations. Another rep's lead or a converted lead is refused with a message, and nothing changes."""

import pytest
from django.urls import reverse

from guanxi.contact_center import call_events as ce
from guanxi.contact_center.call_models import Call
from guanxi.contact_center.lead_link_models import LeadConversation
from guanxi.core.models import AuditAction, AuditEntry
from guanxi.sales import lead_services
from guanxi.sales.lead_models import Lead, LeadStatus
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket, TicketChannel
from tests.contact_center.conftest import answers
from tests.contact_center.test_forms_submit import post
from tests.contact_center.test_inbox_calls import play
from tests.contact_center.test_inbox_reply import chat_with

pytestmark = pytest.mark.django_db


def open_url(source, pk):
    return reverse("contact_center:inbox_open", args=[source, pk])


@pytest.fixture
def email_ticket(users, zhang, desk_setup):
    return desk.create_ticket(users["admin"], {"subject": "询价：CT 机", "description": "请报价两台。",
                                               "contact_id": zhang[1].pk, "queue_id": desk_setup.pk,
                                               "channel": TicketChannel.EMAIL})


@pytest.fixture
def form_ticket(client, ticket_form, desk_setup):
    response = post(client, ticket_form, answers(
        ticket_form, Name="王芳", Email="Wang.Fang@Hospital.CN", Mobile="139 1000 2000", Subject="想了解价格",
        Message="我们医院想采购。"))
    assert response.status_code == 200
    return Ticket.objects.get(channel=TicketChannel.WEB_FORM)


@pytest.fixture
def missed_call(pbx, agent, agent_phone):
    play(pbx, "missed", 30, [(ce.HUNGUP, 25, {})], "13900000001")
    return Call.objects.get()


def lead_of(agent, **values):
    return lead_services.create_lead(agent, {"name": "李娜", "company": "华美医院", **values})


def test_an_email_ticket_becomes_a_lead_from_its_sender(email_ticket, agent, client, zhang):
    client.force_login(agent)
    pane = client.get(open_url("ticket", email_ticket.pk)).content.decode()
    assert 'id="make-lead"' in pane and 'id="link-lead"' in pane
    response = client.post(reverse("contact_center:inbox_lead", args=["ticket", email_ticket.pk]))
    assert response.status_code == 302 and response["Location"] == open_url("ticket", email_ticket.pk)
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.company) == ("张伟", "zhang.wei@xingchen.cn", "北京星辰医疗科技有限公司")
    assert "请报价两台。" in lead.description
    assert AuditEntry.objects.filter(object_id=lead.pk, action=AuditAction.CREATE).exists()
    assert f'id="linked-lead-{lead.pk}"' in client.get(open_url("ticket", email_ticket.pk)).content.decode()
    page = client.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    assert 'id="lead-conversations"' in page and f"Ticket {email_ticket.number}" in page
    assert open_url("ticket", email_ticket.pk) in page


def test_a_web_form_ticket_becomes_a_lead_but_a_portal_ticket_does_not(form_ticket, agent, client, zhang, users,
                                                                         desk_setup):
    client.force_login(agent)
    client.post(reverse("contact_center:inbox_lead", args=["ticket", form_ticket.pk]))
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone, lead.source) == ("王芳", "wang.fang@hospital.cn", "+8613910002000",
                                                               "web_form")
    assert LeadConversation.objects.get().lead == lead
    portal = desk.create_ticket(users["admin"], {"subject": "发票", "contact_id": zhang[1].pk,
                                                 "queue_id": desk_setup.pk, "channel": TicketChannel.PORTAL})
    assert 'id="make-lead"' not in client.get(open_url("ticket", portal.pk)).content.decode()
    response = client.post(reverse("contact_center:inbox_lead", args=["ticket", portal.pk]))
    assert response.status_code == 400 and "This conversation cannot become a lead." in response.content.decode()
    assert Lead.objects.count() == 1


def test_a_missed_call_becomes_a_lead_with_the_callers_number(missed_call, agent, client):
    client.force_login(agent)
    response = client.post(reverse("contact_center:inbox_lead", args=["call", missed_call.pk]))
    assert response.status_code == 400 and Lead.objects.count() == 0  # nobody known: the name is needed
    response = client.post(reverse("contact_center:inbox_lead", args=["call", missed_call.pk]), {"name": "陈先生"})
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.name, lead.phone) == ("陈先生", "+8613900000001") and "13900000001" in lead.description
    link = LeadConversation.objects.get()
    assert (link.source, link.object_id, link.linked_by) == ("call", missed_call.pk, agent)


def test_every_kind_of_conversation_links_to_an_existing_lead(email_ticket, form_ticket, missed_call, site, agent,
                                                              client):
    lead = lead_of(agent)
    chat = chat_with(site, "上次说的报价呢？")
    client.force_login(agent)
    for source, pk in [("ticket", email_ticket.pk), ("ticket", form_ticket.pk), ("call", missed_call.pk),
                       ("chat", chat.pk)]:
        response = client.post(reverse("contact_center:inbox_lead_link", args=[source, pk]), {"lead": str(lead.pk)})
        assert response.status_code == 302 and response["Location"] == open_url(source, pk)
    assert sorted(lead.conversations.values_list("source", "object_id")) == sorted(
        [("ticket", email_ticket.pk), ("ticket", form_ticket.pk), ("call", missed_call.pk), ("chat", chat.pk)])
    assert AuditEntry.objects.filter(object_id=lead.pk, action=AuditAction.UPDATE).count() == 4
    client.post(reverse("contact_center:inbox_lead_link", args=["chat", chat.pk]), {"lead": str(lead.pk)})
    assert lead.conversations.count() == 4  # linked once
    page = client.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    assert f"Web chat #{chat.pk}" in page and f"Ticket {form_ticket.number}" in page


def test_a_chat_made_into_a_lead_is_linked_to_it(site, agent, desk_setup, client, zhang):
    chat = chat_with(site, "想了解一下价格，电话 13800138000")
    client.force_login(agent)
    client.post(reverse("contact_center:inbox_lead", args=["chat", chat.pk]))
    lead = Lead.objects.get()
    assert lead.name == "张伟" and lead.company == "北京星辰医疗科技有限公司" and "想了解一下价格" in lead.description
    assert list(lead.conversations.values_list("source", "object_id")) == [("chat", chat.pk)]


def test_another_reps_lead_or_a_converted_lead_is_refused(email_ticket, agent, users, client):
    theirs = lead_of(users["rep_b"], name="赵六")
    converted = lead_of(agent, name="孙七")
    Lead.objects.filter(pk=converted.pk).update(status=LeadStatus.CONVERTED)
    client.force_login(agent)
    url = reverse("contact_center:inbox_lead_link", args=["ticket", email_ticket.pk])
    for reference, message in [(theirs.pk, "No such lead."), ("999999", "No such lead."), ("abc", "No such lead."),
                               (converted.pk, "This lead is already converted")]:
        response = client.post(url, {"lead": str(reference)})
        assert response.status_code == 400 and message in response.content.decode()
        assert "赵六" not in response.content.decode()  # no hint of another rep's lead
    assert LeadConversation.objects.count() == 0
    assert not AuditEntry.objects.filter(object_id__in=[theirs.pk, converted.pk], action=AuditAction.UPDATE).exists()
    # a conversation of another queue stays a 404, whatever the lead
    assert client.post(reverse("contact_center:inbox_lead_link", args=["ticket", 999999]),
                       {"lead": str(converted.pk)}).status_code == 404


def test_the_viewer_may_not_link(email_ticket, users, agent, client):
    lead = lead_of(agent)
    client.force_login(users["viewer"])
    client.post(reverse("contact_center:inbox_lead_link", args=["ticket", email_ticket.pk]), {"lead": str(lead.pk)})
    assert LeadConversation.objects.count() == 0


def test_the_pane_and_the_lead_page_stay_bounded_in_queries(email_ticket, agent, client,
                                                           django_assert_max_num_queries):
    client.force_login(agent)
    leads = [lead_of(agent, name=f"客户{i}") for i in range(6)]
    client.post(reverse("contact_center:inbox_lead_link", args=["ticket", email_ticket.pk]),
                {"lead": str(leads[0].pk)})
    with django_assert_max_num_queries(60) as one:
        client.get(open_url("ticket", email_ticket.pk))
    with_one = len(one)
    for lead in leads[1:]:
        client.post(reverse("contact_center:inbox_lead_link", args=["ticket", email_ticket.pk]),
                    {"lead": str(lead.pk)})
    with django_assert_max_num_queries(with_one):  # no query per linked lead
        html = client.get(open_url("ticket", email_ticket.pk)).content.decode()
    assert all(f'id="linked-lead-{lead.pk}"' in html for lead in leads)
    with django_assert_max_num_queries(40):
        client.get(reverse("sales:lead_detail", args=[leads[0].pk]))
