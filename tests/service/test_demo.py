"""The demo service desk: queues, groups, agents online, and routed tickets with SLA due times."""

import pytest

from guanxi.core import demo
from guanxi.service.models import AgentProfile, QuestionGroup, Queue, Ticket


@pytest.mark.django_db
def test_demo_has_queues_agents_and_routed_tickets():
    assert demo.load(300, seed=3).created
    assert set(Queue.objects.values_list("name", flat=True)) == {"General", "VIP"}
    assert QuestionGroup.objects.filter(parent__isnull=False).exists()
    assert AgentProfile.objects.filter(availability="online").count() == 3
    tickets = Ticket.objects.all()
    assert 20 <= tickets.count() <= 30
    assert tickets.filter(owner__isnull=False).exists() and not tickets.filter(first_response_due_at=None).exists()
    assert tickets.filter(first_response_at__isnull=False).exists()
    # Key customers (class A) went to the senior queue first.
    assert all(t.queue.name == "VIP" for t in tickets.filter(account__classification="A", owner__isnull=False))
