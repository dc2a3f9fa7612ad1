"""What the NPS tests share: a small customer base with every reason to skip a contact, a real SMTP server
(aiosmtpd), the background job run at once, and a helper that sends a survey the way the page does."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.customers.models import ContactMethod
from guanxi.service import nps_services
from guanxi.service.nps_models import NpsInvitation, NpsResponse
from tests.sales.quotes.test_quote_views import smtp  # noqa: F401 (a real SMTP server, aiosmtpd)

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}



@pytest.fixture
def tasks_now(settings):
    """The sending job runs as soon as it is enqueued (after commit), as a worker would."""
    settings.TASKS = IMMEDIATE


@pytest.fixture
def nps_book(users):
    """rep_a's key account 北京星辰 (A) with 张伟 (consents), 王芳 (consents, address bounced), 刘洋 (no consent) and
    陈静 (consents, no address); rep_b's 广州海风 (B) with 李娜 (consents)."""
    rep_a, rep_b = users["rep_a"], users["rep_b"]
    a = customers.create_account(rep_a, {"name": "北京星辰医疗科技有限公司", "classification": "A"})
    b = customers.create_account(rep_b, {"name": "广州海风贸易有限公司", "classification": "B"})

    def contact(owner, name, account, email=None, consent=True):
        return customers.create_contact(owner, {"name": name, "account_ids": [account.pk], "marketing_consent": consent,
                                                "emails": [email] if email else []})

    people = {
        "zhang": contact(rep_a, "张伟", a, "Zhang.Wei@Xingchen.CN"),
        "wang": contact(rep_a, "王芳", a, "wang.fang@xingchen.cn"),
        "liu": contact(rep_a, "刘洋", a, "liu.yang@xingchen.cn", consent=False),
        "chen": contact(rep_a, "陈静", a),
        "li": contact(rep_b, "李娜", b, "li.na@haifeng.cn"),
    }
    ContactMethod.objects.filter(contact=people["wang"]).update(invalid_since=timezone.now(),
                                                                 invalid_reason="550 mailbox unavailable")
    return {"a": a, "b": b, **people}


def send(actor, capture, **data):
    """Send a survey as the page does; the job's e-mails leave when the transaction commits."""
    with capture(execute=True):
        return nps_services.send_survey(actor, {"name": "客户关系调查", **data})


def link_path(body: str) -> str:
    return "/" + re.search(r"https?://\S+", body).group(0).split("/", 3)[3]


def plant(survey, contact, score, at, reason=""):
    """An answer given at `at` (an invitation written directly, as if its e-mail had gone)."""
    invitation = NpsInvitation.objects.create(survey=survey, contact=contact, account=contact.primary_account,
                                              email=contact.email, sent_at=at, attempts=1)
    return nps_services.answer(invitation, score, reason, now=at)


def planted_scores(survey) -> list[int]:
    return sorted(NpsResponse.objects.filter(survey=survey).values_list("score", flat=True))
