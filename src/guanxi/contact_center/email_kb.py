"""Answers from the knowledge base for email tickets.

Each new email ticket gets the articles that best match its question (knowledge.services.suggest_articles: jieba
keywords, 3 points per keyword in an article's title, 1 per keyword only in its body), kept on the ticket for
the agent to insert into a reply. Where an administrator allows it for the ticket's question group, a public
article scoring at least the group's minimum is mailed to the customer at once — never to our own addresses, an
address that bounced, or more often than acknowledgements — and the ticket then waits on the customer.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.knowledge.queries import SuggestionCache
from guanxi.knowledge.services import article_link, suggest_articles
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket

from .email_kb_models import EmailAutoResponse, KnowledgeSuggestion
from .email_models import InboundEmail, Mailbox
from .email_outbound import may_answer_automatically, queue_automatic_answer

SUGGESTED = 5
PLACEHOLDERS = ("ticket", "token", "subject", "customer", "articles")


def question_text(subject: str, body: str) -> str:
    """What to search for: the subject counts twice (keywords are ranked by how often they occur), then the
    start of the message."""
    return f"{subject}\n{subject}\n{body[:4000]}"


def suggest(ticket: Ticket, row: InboundEmail | None, text: str, batch: SuggestionCache | None = None
            ) -> list[KnowledgeSuggestion]:
    """Store the best articles for the ticket's question (published ones, internal too: agents read them)."""
    found = [a for a in suggest_articles(text, public_only=False, limit=SUGGESTED, batch=batch) if a.score > 0]
    return KnowledgeSuggestion.objects.bulk_create(
        [KnowledgeSuggestion(ticket=ticket, inbound=row, article=a, score=a.score) for a in found],
        ignore_conflicts=True)


def _fill(template: str, values: dict[str, str]) -> str:
    text = template
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", values[name])
    return text if "{articles}" in template else f"{text}\n\n{values['articles']}"


def default_template() -> str:
    return _("Thank you for your message: it is ticket {ticket}. These articles of our knowledge base may already "
             "answer your question:\n\n{articles}\n\nIf they do not, reply to this email (keep {token} in the "
             "subject) and one of our agents will take it up.")


def auto_response(group_id: int | None) -> EmailAutoResponse | None:
    """The question group's automatic answers, when an administrator turned them on."""
    return EmailAutoResponse.objects.filter(question_group_id=group_id, enabled=True).first() if group_id else None


def answer_from_knowledge_base(mailbox: Mailbox, row: InboundEmail, ticket: Ticket, body: str,
                               now: dt.datetime, batch: SuggestionCache | None = None,
                               settings_by_group: dict[int | None, EmailAutoResponse | None] | None = None) -> bool:
    """Suggest articles for a new email ticket and, where allowed, answer with them. True when an answer went.
    An email batch passes its `suggestion_batch` and a dict keeping each question group's setting."""
    text = question_text(row.subject, body)
    suggest(ticket, row, text, batch)
    group = ticket.question_group_id
    if settings_by_group is None:
        setting = auto_response(group)
    else:
        if group not in settings_by_group:
            settings_by_group[group] = auto_response(group)
        setting = settings_by_group[group]
    if setting is None:
        return False
    articles = [a for a in suggest_articles(text, public_only=True, limit=setting.max_articles, count=False,
                                            batch=batch)
                if a.score >= setting.min_score]
    if not articles or not may_answer_automatically(mailbox, row.from_address, now):
        return False
    with translation.override(settings.LANGUAGE_CODE):
        listing = "\n".join(f"• {a.title}\n  {article_link(a)}" for a in articles)
        message = _fill(setting.template.strip() or default_template(), {
            "ticket": ticket.number, "token": f"[#{ticket.number}]", "subject": ticket.subject,
            "customer": ticket.contact.name if ticket.contact_id else "", "articles": listing})
        note = _("Answered automatically from the knowledge base (score %(score)s, at least %(min)s) to "
                 "%(address)s:\n%(articles)s") % {"score": articles[0].score, "min": setting.min_score,
                                                  "address": row.from_address, "articles": listing}
    queue_automatic_answer(mailbox, row, ticket, message)
    KnowledgeSuggestion.objects.filter(ticket=ticket, article__in=articles).update(sent=True)
    desk.answered_automatically(ticket, note, now)
    return True
