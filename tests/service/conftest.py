import datetime as dt

import pytest

from guanxi.core.models import Role, Team
from guanxi.core.services import create_user
from guanxi.service.models import AgentProfile, QuestionGroup, Queue

from .nps_fixtures import nps_book, smtp, tasks_now  # noqa: F401 (the NPS tests' customers, SMTP server, jobs)

# A Tuesday morning in Shanghai (2026-03-10 10:00 +08:00): inside the default calendar's working hours.
MONDAY_10 = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)
TUESDAY_10 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def desk(users, teams):
    """A service team: supervisor `lead`, agents `wang` (billing) and `li` (network, senior queue), queues
    General and VIP (senior), question groups Billing → General and Network → General."""
    service = Team.objects.create(name="客服部", parent=teams["company"])

    def make(username, role):
        return create_user(None, username=username, password="correct-horse-9", role=role, team=service)

    lead, wang, li, zhao = (make("lead", Role.SERVICE_MANAGER), make("wang", Role.SERVICE_AGENT),
                            make("li", Role.SERVICE_AGENT), make("zhao", Role.SERVICE_AGENT))
    vip = Queue.objects.create(name="VIP", is_senior=True, supervisor=lead, strategy="least_loaded")
    general = Queue.objects.create(name="General", supervisor=lead, senior_queue=vip, senior_for=["A"],
                                   reroute_after_minutes=15)
    billing = QuestionGroup.objects.create(name="账单", queue=general)
    network = QuestionGroup.objects.create(name="网络", queue=general, skills=["network"])
    profiles = {}
    for user, skills, queues in ((wang, {"billing": 3}, [general]), (li, {"network": 5, "billing": 2}, [general, vip]),
                                 (zhao, {"billing": 1}, [general])):
        profiles[user.username] = p = AgentProfile.objects.create(user=user, skills=skills, capacity=2,
                                                                  availability="online", languages=["zh"])
        p.queues.set(queues)
    return {"lead": lead, "wang": wang, "li": li, "zhao": zhao, "general": general, "vip": vip,
            "billing": billing, "network": network, "profiles": profiles, "team": service}

