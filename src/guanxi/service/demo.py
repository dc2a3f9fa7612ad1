"""Demo service desk: two queues (General and a senior VIP queue), a small question-group tree, the demo
agents online with skills, and about thirty tickets on demo accounts — created through the services, so
they are routed, carry SLA due times and an event log like real ones.

Called by `guanxi.core.demo.load` inside its transaction, after the customers and opportunities.
"""

from __future__ import annotations

import datetime as dt
import random

from guanxi.core.models import User
from guanxi.customers.models import Account, Contact

from . import services
from .models import AgentProfile, QuestionGroup, Queue
from .ticket_models import Ticket

TICKETS = 30
# (group, parent, skills)
GROUPS = (("产品咨询", None, []), ("技术支持", None, ["technical"]), ("安装部署", "技术支持", ["technical"]),
          ("故障报修", "技术支持", ["technical"]), ("账单与发票", None, ["billing"]))
SUBJECTS = {
    "产品咨询": ("新版本有哪些功能？", "Which plan fits a team of 20?", "能否试用高级版？"),
    "安装部署": ("安装时提示缺少组件", "Installer stops at 80 %", "如何迁移到新服务器"),
    "故障报修": ("系统登录后白屏", "Reports export empty files", "打印模板错位"),
    "账单与发票": ("发票抬头需要更正", "Invoice shows the wrong amount", "续费后未收到发票"),
}
REPLIES = ("您好，我们已收到您的问题，正在处理。", "Thanks, we are looking into it.", "请提供一下截图，谢谢。")
# (username, skills, languages, queue names)
AGENTS = (("agent1", {"billing": 4, "product": 3}, ["zh", "en"], ("General",)),
          ("agent2", {"technical": 5, "billing": 2}, ["zh"], ("General", "VIP")),
          ("service", {"technical": 3, "billing": 3, "product": 3}, ["zh", "en"], ("VIP",)))


def create_demo_service(seed: int, first_account_id: int, now: dt.datetime, *, tickets: int = TICKETS) -> int:
    """Queues, groups and agents (each only if missing) and `tickets` tickets on the accounts from
    `first_account_id` on; the same seed gives the same tickets. Returns how many tickets were made."""
    rng = random.Random(seed)
    supervisor = User.objects.filter(username="service").first()
    vip, _created = Queue.objects.get_or_create(name="VIP", defaults={"is_senior": True, "supervisor": supervisor,
                                                                      "strategy": "least_loaded"})
    general, _created = Queue.objects.get_or_create(name="General", defaults={
        "supervisor": supervisor, "senior_queue": vip, "senior_for": ["A"], "strategy": "skills_based"})
    groups: dict[str, QuestionGroup] = {}
    for name, parent, skills in GROUPS:
        groups[name], _created = QuestionGroup.objects.get_or_create(
            name=name, parent=groups.get(parent) if parent else None,
            defaults={"queue": None if parent else general, "skills": skills})
    queues = {"General": general, "VIP": vip}
    for username, skills, languages, names in AGENTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        profile, created = AgentProfile.objects.get_or_create(user=user, defaults={
            "skills": skills, "languages": languages, "capacity": 8, "availability": "online"})
        if created:
            profile.queues.set([queues[n] for n in names])
    accounts = list(Account.objects.filter(pk__gte=first_account_id).select_related("owner")
                    .order_by("pk")[: tickets * 3])
    made = 0
    for account in rng.sample(accounts, min(tickets, len(accounts))):
        if account.owner is None:
            continue
        group = rng.choice(list(SUBJECTS))
        at = now - dt.timedelta(minutes=rng.randint(10, 4 * 24 * 60))
        ticket = services.create_ticket(account.owner, {
            "subject": rng.choice(SUBJECTS[group]), "description": rng.choice(SUBJECTS[group]),
            "question_group_id": groups[group].pk, "account_id": account.pk,
            "priority": rng.choice(("low", "normal", "normal", "high", "urgent"))}, now=at)
        made += 1
        if ticket.owner is None or rng.random() < 0.3:
            continue
        services.reply(ticket.owner, ticket, rng.choice(REPLIES), now=at + dt.timedelta(minutes=rng.randint(5, 90)))
        if rng.random() < 0.5:
            ticket = Ticket.objects.get(pk=ticket.pk)
            status = rng.choice(("waiting", "resolved"))
            services.change_status(ticket.owner, ticket, status, ticket.version,
                                   now=at + dt.timedelta(minutes=rng.randint(100, 300)))
    return made


NPS_REASONS = {
    "promoter": ("响应很快，问题当天解决。", "The sales team knows our business.", "产品稳定，价格合理。"),
    "passive": ("总体不错，报表功能还可以更灵活。", "Good, but invoices take a while.", ""),
    "detractor": ("发货经常延迟。", "Support took three days to answer.", "价格涨得太快。"),
}


def create_demo_nps(seed: int, first_account_id: int, now: dt.datetime, *, answers: int = 30) -> int:
    """One relationship survey sent six weeks ago to contacts of the demo accounts, with `answers` answers spread
    over the weeks since (about half promoters, a fifth detractors), so the NPS page and the KPI dashboard show
    figures from the start. The invitations are marked sent: no e-mail leaves a demo. Returns the answers made."""
    from .nps_models import NpsInvitation, NpsResponse, NpsSurvey

    rng = random.Random(seed)
    sender = User.objects.filter(username="service").first()
    if NpsSurvey.objects.exists():
        return 0
    sent = now - dt.timedelta(days=42)
    survey = NpsSurvey.objects.create(name="客户关系调查 · Customer relationship survey", language="zh-hans",
                                      created_by=sender)
    NpsSurvey.objects.filter(pk=survey.pk).update(created_at=sent)
    contacts = list(Contact.objects.filter(primary_account_id__gte=first_account_id, marketing_consent=True)
                    .exclude(email="").order_by("pk").values_list("pk", "primary_account_id", "email")[:answers * 2])
    made = 0
    for n, (contact, account, email) in enumerate(contacts):
        invitation = NpsInvitation.objects.create(survey=survey, contact_id=contact, account_id=account, email=email,
                                                  sent_at=sent, attempts=1, tried_at=sent)
        if n % 2 or made >= answers:
            continue
        roll = rng.random()
        score = rng.choice((9, 10)) if roll < 0.5 else rng.choice((7, 8)) if roll < 0.8 else rng.randint(2, 6)
        kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        NpsResponse.objects.create(invitation=invitation, survey=survey, contact_id=contact, account_id=account,
                                   score=score, reason=rng.choice(NPS_REASONS[kind]),
                                   at=sent + dt.timedelta(hours=rng.randint(2, 40 * 24)))
        made += 1
    return made
