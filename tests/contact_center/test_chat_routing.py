"""A new live chat of a website with a queue goes to an agent by the desk's rules: online, with room (open chats and
open tickets both count against the capacity) and speaking the visitor's language; otherwise it waits in the queue,
unassigned. The queue stays the site's."""

import pytest

from guanxi.contact_center import chat_services as cs
from guanxi.contact_center import visitor_services as vs
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service import services as desk
from guanxi.service.models import AgentProfile, Availability

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed_site(site, support_queue, agent):
    queue = support_queue[0]
    site.queue = queue
    site.save()
    profile = AgentProfile.objects.get(user=agent)
    profile.capacity, profile.languages = 2, ["zh-hans"]
    profile.save()
    profile.queues.add(queue)
    away = create_user(None, username="agent_wang", password="correct-horse-9", role=Role.SERVICE_AGENT)
    AgentProfile.objects.create(user=away, availability=Availability.AWAY, languages=["zh"]).queues.add(queue)
    return site, queue, away


def new_chat(site, body="你好", language="zh-CN,zh;q=0.9,en;q=0.8"):
    visitor, _view = vs.track(site, {"url": "https://shop.example.cn/"})
    return cs.visitor_says(visitor, body, language=language)[0]


def test_an_available_agent_with_room_gets_the_chat(routed_site, agent):
    site, queue, _away = routed_site
    chat = new_chat(site)
    chat.refresh_from_db()
    assert (chat.owner, chat.queue) == (agent, queue)
    assert AgentProfile.objects.get(user=agent).last_assigned_at is not None


def test_a_full_or_away_agent_does_not(routed_site, agent, users):
    site, queue, away = routed_site
    desk.create_ticket(users["admin"], {"subject": "旧工单", "owner_id": agent.pk, "queue_id": queue.pk})
    first = new_chat(site)
    assert first.owner == agent  # one ticket + this chat: at capacity (2)
    second = new_chat(site)
    second.refresh_from_db()
    assert second.owner is None and second.queue == queue  # the other agent is away: it waits in the queue
    AgentProfile.objects.filter(user=away).update(availability=Availability.ONLINE)
    assert new_chat(site).owner == away


def test_nobody_speaking_the_visitors_language_leaves_it_in_the_queue(routed_site):
    site, queue, _away = routed_site
    chat = new_chat(site, "hello", language="fr-FR,fr;q=0.9")
    assert chat.owner is None and chat.queue == queue
