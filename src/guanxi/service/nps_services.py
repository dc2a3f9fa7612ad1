"""NPS relationship surveys. A service manager or administrator sends a survey to the contacts they may see —
all of them, or only those of accounts of one classification (A/B/C/D) or one owner. Each chosen contact gets an
invitation: an e-mail with a signed link (sent by a background job, retried by the sweep, never twice), or the
reason none was sent (no marketing consent, no address, an address mail bounced from, surveyed within the quiet
period). The customer answers 0–10 and the main reason once; a detractor's answer gives the account's owner a
task to call back. The results, the answer list and its CSV count only the contacts the viewer may see.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from guanxi.activities.models import Task
from guanxi.activities.services import create_task
from guanxi.core.access import require_editor
from guanxi.core.jobs import progress, start_job, tracked
from guanxi.core.models import AuditAction, Role, User
from guanxi.core.notifications import notify
from guanxi.core.paging import Page, paginate
from guanxi.core.records import creation_changes, fail, int_or_none, write_audit
from guanxi.core.services import visible_users
from guanxi.customers.models import Account, Classification, Contact, ContactMethod, ContactMethodKind
from guanxi.quality.normalize import clean_text

from . import nps, survey_mail
from .nps_models import Category, NpsInvitation, NpsResponse, NpsSurvey, SkipReason

logger = logging.getLogger("guanxi.service")
SALT = "guanxi.service.nps"
JOB_KIND = "nps_send"
BATCH = 100  # e-mails per progress report of the sending job
RETRY_BATCH = 500  # e-mails the sweep tries again per minute
MAX_REASON = 2000
OPT_OUT_DAYS = 365  # an opt-out link works this long after the e-mail
FOLLOW_UP_DAYS = 2  # a detractor's call-back is due this many days after the answer
QUESTION = gettext_lazy("How likely are you to recommend us to a friend or colleague?")
REASON_QUESTION = gettext_lazy("What is the main reason for your score?")
SURVEY_SORTS = ["-created_at", "created_at", "-id", "id"]
ANSWER_SORTS = ["-at", "at", "-score", "score"]
AUDITED = ["name", "language", "classification", "account_owner_id"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

GROUP_LABELS = {nps.PROMOTER: gettext_lazy("Promoters"), nps.PASSIVE: gettext_lazy("Passives"),
                nps.DETRACTOR: gettext_lazy("Detractors")}
CATEGORY_Q = {
    nps.PROMOTER: Q(score__gte=nps.PROMOTER_FROM),
    nps.PASSIVE: Q(score__gte=nps.PASSIVE_FROM, score__lt=nps.PROMOTER_FROM),
    nps.DETRACTOR: Q(score__lt=nps.PASSIVE_FROM),
}


def category_counts(prefix: str = "", when: Q | None = None) -> dict[str, Count]:
    """Filtered aggregates counting promoters, passives and detractors (keys `<prefix>promoter` …), optionally only
    the answers matching `when`: the results, the survey list and the KPI dashboard count with them."""
    return {f"{prefix}{which}": Count("pk", filter=q & when if when is not None else q)
            for which, q in CATEGORY_Q.items()}


def breakdown_of(row: dict[str, Any], prefix: str = "") -> nps.Breakdown:
    return nps.breakdown(row[f"{prefix}{nps.PROMOTER}"] or 0, row[f"{prefix}{nps.PASSIVE}"] or 0,
                         row[f"{prefix}{nps.DETRACTOR}"] or 0)


# ------------------------------------------------------------------ who may send


def may_send(user: User | None) -> bool:
    """Service managers and administrators (who may change records) send NPS surveys."""
    return bool(getattr(user, "can_edit", False)) and (user.is_administrator or user.role == Role.SERVICE_MANAGER)


def _require_sender(user: User | None) -> None:
    require_editor(user)
    if not may_send(user):
        raise PermissionDenied(_("Only service managers and administrators may send NPS surveys."))


def _visible_contacts(user: User) -> QuerySet:
    return Contact.objects.visible_to(user).values("pk")


# ------------------------------------------------------------------ sending


def _clean(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = clean_text(data.get("name")) if isinstance(data.get("name"), str) else ""
    if not name:
        errors["name"] = [_("Give the survey a name.")]
    elif len(name) > 200:
        errors["name"] = [_("At most %(max)s characters.") % {"max": 200}]
    classification = data.get("classification")
    classification = "" if classification is None else classification
    if not isinstance(classification, str) or classification not in ("", *Classification.values):
        errors["classification"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Classification.values)}]
        classification = ""
    owner = None
    if data.get("account_owner_id") not in (None, ""):
        pk = int_or_none(data["account_owner_id"])
        owner = visible_users(actor).filter(pk=pk).first() if pk else None
        if owner is None:
            errors["account_owner_id"] = [_("Choose a colleague you can see.")]
    languages = [code for code, _name in settings.LANGUAGES]
    language = data.get("language") or settings.LANGUAGE_CODE
    if language not in languages:
        errors["language"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(languages)}]
    fail(errors)
    return {"name": name, "classification": classification, "account_owner": owner, "language": language}


def _bounced(contact: str, email: str) -> Exists:
    """Whether mail to the contact's (primary) address bounced: the email channel marks the address undeliverable."""
    return Exists(ContactMethod.objects.filter(contact=OuterRef(contact), kind=ContactMethodKind.EMAIL,
                                               normalized=OuterRef(email), invalid_since__isnull=False))


def _candidates(actor: User, cleaned: dict[str, Any], now: dt.datetime) -> QuerySet:
    """The contacts the survey is for, with what decides whether each gets the e-mail: one query."""
    contacts = Contact.objects.visible_to(actor)
    if cleaned["classification"]:
        contacts = contacts.filter(primary_account__classification=cleaned["classification"])
    if cleaned["account_owner"] is not None:
        contacts = contacts.filter(primary_account__owner=cleaned["account_owner"])
    recent = NpsInvitation.objects.filter(
        contact=OuterRef("pk"), skip_reason="", created_at__gte=now - dt.timedelta(days=settings.NPS_QUIET_DAYS)
    ).filter(Q(sent_at__isnull=False) | Q(attempts__lt=survey_mail.MAX_ATTEMPTS))  # sent, or still being sent
    return (contacts.annotate(undeliverable=_bounced("pk", "email"), recent=Exists(recent)).order_by("pk")
            .values_list("pk", "email", "marketing_consent", "primary_account_id", "undeliverable", "recent"))


@transaction.atomic
def send_survey(actor: User, data: dict[str, Any], now: dt.datetime | None = None) -> NpsSurvey:
    """Create the survey and its invitations, and start the job that e-mails them once this commits.

    `data`: name, classification ("" or A–D), account_owner_id (optional), language (default the site's)."""
    _require_sender(actor)
    cleaned = _clean(actor, data)
    now = now or timezone.now()
    chosen = list(_candidates(actor, cleaned, now).iterator(chunk_size=2000))
    if not chosen:
        fail({"recipients": [_("No contact you may see matches these filters.")]})
    survey = NpsSurvey.objects.create(created_by=actor, **cleaned)
    invitations = [
        NpsInvitation(survey=survey, contact_id=pk, account_id=account_id, email=email,
                      skip_reason=nps.skip_reason(consent=consent, email=email, undeliverable=undeliverable,
                                                  surveyed_recently=recent) or "")
        for pk, email, consent, account_id, undeliverable, recent in chosen
    ]
    NpsInvitation.objects.bulk_create(invitations, batch_size=500)
    write_audit(survey, actor, AuditAction.CREATE, creation_changes(survey, AUDITED))
    if any(not i.skip_reason for i in invitations):
        survey.job = start_job(actor, JOB_KIND, _("Send the NPS survey “%(name)s”") % {"name": survey.name},
                               send_survey_task, survey_id=survey.pk)
        survey.save(update_fields=["job"])
    return survey


def survey_token(invitation: NpsInvitation) -> str:
    return survey_mail.sign(invitation.pk, SALT)


def survey_url(invitation: NpsInvitation) -> str:
    return settings.SITE_URL + reverse("service:nps_answer", args=[survey_token(invitation)])


def opt_out_url(invitation: NpsInvitation) -> str:
    return settings.SITE_URL + reverse("service:nps_opt_out", args=[survey_token(invitation)])


def _invitation_rows() -> QuerySet:
    """The invitations to e-mail, with what `_message` reads: the contact, the survey, and whether the contact's
    address bounced since the survey went out."""
    return (NpsInvitation.objects.filter(skip_reason="").select_related("contact", "survey")
            .annotate(undeliverable=_bounced("contact_id", "contact__email")))


def _message(row: NpsInvitation) -> survey_mail.Mail | str:
    """The survey e-mail, in the survey's language, to the contact's address now (kept on the row); a contact who
    withdrew consent, lost the address or whose address bounced meanwhile is skipped with that reason instead."""
    contact = row.contact
    reason = nps.skip_reason(consent=contact.marketing_consent, email=contact.email,
                             undeliverable=row.undeliverable, surveyed_recently=False)
    if reason:
        NpsInvitation.objects.filter(pk=row.pk).update(skip_reason=reason)
        return f"skipped: {reason}"
    if contact.email != row.email:  # the address changed since the survey went out: keep where it goes
        NpsInvitation.objects.filter(pk=row.pk).update(email=contact.email)
    with translation.override(row.survey.language):
        subject = _("One question: would you recommend us?")
        body = _("Hello %(name)s,\n\n%(question)s\nChoose from 0 (not at all likely) to 10 (extremely likely); "
                 "it takes a few seconds:\n\n%(url)s\n\nThe link is valid for %(days)s days. Thank you!") % {
            "name": contact.name, "question": QUESTION, "url": survey_url(row), "days": settings.NPS_LINK_DAYS}
        body += "\n\n-- \n" + _("To receive no more surveys or marketing e-mail from us: %(url)s") % {
            "url": opt_out_url(row)}
    return survey_mail.Mail(subject, body, contact.email)


@task()
@tracked
def send_survey_task(job_id: str, survey_id: int) -> str:
    """E-mail every invitation of the survey not tried yet, in batches with progress; what the mail server refuses
    is left to the sweep (`retry_invitations`). Running it again sends nothing twice."""
    ids = list(NpsInvitation.objects.filter(survey_id=survey_id, skip_reason="", sent_at__isnull=True, attempts=0)
               .order_by("pk").values_list("pk", flat=True))
    progress(job_id, 0, len(ids), _("Sending the survey e-mails…"))
    sent = 0
    for start in range(0, len(ids), BATCH):
        sent += survey_mail.send(_invitation_rows(), ids[start:start + BATCH], _message)
        progress(job_id, min(start + BATCH, len(ids)), len(ids))
    return _("%(sent)d of %(total)d survey e-mails sent; those the mail server refused are tried again every few "
             "minutes.") % {"sent": sent, "total": len(ids)}


def retry_invitations(now: dt.datetime) -> int:
    """The sweep: e-mails the mail server refused, or that a stopped worker never sent, go again."""
    return survey_mail.retry(_invitation_rows(), _message, now, RETRY_BATCH)


# ------------------------------------------------------------------ answering


def invitation_for_token(token: str) -> NpsInvitation:
    """The invitation a survey link is for; an altered, foreign or expired link is refused (on `token`)."""
    pk = survey_mail.unsign(token, SALT, settings.NPS_LINK_DAYS)
    invitation = (NpsInvitation.objects.select_related("survey", "contact").filter(pk=pk, skip_reason="").first())
    if invitation is None:
        fail({"token": [_("This survey link is not valid.")]})
    return invitation


def invitation_for_opt_out(token: str) -> NpsInvitation:
    """The invitation an opt-out link is for: the survey's link, honoured for OPT_OUT_DAYS (longer than the
    survey's own), so a contact can still say no to mail long after the survey closed."""
    pk = survey_mail.unsign(token, SALT, OPT_OUT_DAYS)
    invitation = NpsInvitation.objects.select_related("contact").filter(pk=pk).first()
    if invitation is None:
        fail({"token": [_("This survey link is not valid.")]})
    return invitation


@transaction.atomic
def opt_out(invitation: NpsInvitation, now: dt.datetime | None = None) -> bool:
    """The contact withdraws marketing consent from the survey e-mail: the consent is cleared (audited, stamped),
    and their invitations not sent yet are skipped. Returns False when consent was already withdrawn."""
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=invitation.contact_id)
    NpsInvitation.objects.filter(contact_id=contact.pk, skip_reason="", sent_at__isnull=True).update(
        skip_reason=SkipReason.NO_CONSENT)
    if not contact.marketing_consent:
        return False
    Contact.objects.filter(pk=contact.pk).update(marketing_consent=False, consent_changed_at=now,
                                                 version=contact.version + 1, updated_at=now)
    contact.refresh_from_db()
    write_audit(contact, None, AuditAction.UPDATE, {"marketing_consent": [True, False],
                                                     "opt-out link of the NPS survey": [None, invitation.survey_id]})
    return True


def answer_of(invitation: NpsInvitation) -> NpsResponse | None:
    return NpsResponse.objects.filter(invitation_id=invitation.pk).first()


@transaction.atomic
def answer(invitation: NpsInvitation, score: Any, reason: Any = "", now: dt.datetime | None = None) -> NpsResponse:
    """The customer's answer, taken once (a second one is refused and the first stands); a detractor's answer gives
    the account's owner a call-back task."""
    already = {"score": [_("This survey has already been answered. Thank you!")]}
    if NpsResponse.objects.filter(invitation_id=invitation.pk).exists():
        fail(already)
    errors: dict[str, list[str]] = {}
    value = nps.parse_score(score)
    if value is None:
        errors["score"] = [_("Choose a score from 0 to 10.")]
    text = _CONTROL.sub("", reason).strip() if isinstance(reason, str) else ""
    if reason not in (None, "") and not isinstance(reason, str):
        errors["reason"] = [_("Expected text.")]
    elif len(text) > MAX_REASON:
        errors["reason"] = [_("At most %(max)s characters.") % {"max": MAX_REASON}]
    fail(errors)
    try:
        with transaction.atomic():
            response = NpsResponse.objects.create(
                invitation=invitation, survey_id=invitation.survey_id, contact_id=invitation.contact_id,
                account_id=invitation.account_id, score=value, reason=text, at=now or timezone.now())
    except IntegrityError:  # two answers at once: the other one stands
        fail(already)
        raise  # pragma: no cover - fail() raised
    if nps.category(value) == nps.DETRACTOR:
        response.follow_up = _follow_up(response)
        if response.follow_up is not None:
            response.save(update_fields=["follow_up"])
    return response


def _follow_up(response: NpsResponse) -> Task | None:
    """"Call back the detractor": a task for the account's owner (the contact's owner when the contact has no
    account or the account none), due in FOLLOW_UP_DAYS, made with activities' create_task as the owner's own
    (audited), and a notification. None when nobody active owns them."""
    contact, account = response.contact, response.account
    owner = account.owner if account is not None and account.owner_id else contact.owner
    if owner is None or not owner.can_edit:
        return None
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        title = _("Call back the detractor %(name)s (NPS %(score)s/10)") % {"name": contact.name,
                                                                             "score": response.score}
        lines = [_("%(name)s answered the NPS survey “%(survey)s” with %(score)s out of 10.") % {
            "name": contact.name, "survey": response.survey.name, "score": response.score}]
        if response.reason:
            lines.append(_("Main reason: %(reason)s") % {"reason": response.reason})
        data: dict[str, Any] = {"title": title[:200], "description": "\n".join(lines), "priority": "high",
                                "due_at": response.at + dt.timedelta(days=FOLLOW_UP_DAYS)}
        if account is not None and Account.objects.visible_to(owner).filter(pk=account.pk).exists():
            data["account_id"] = account.pk
        if Contact.objects.visible_to(owner).filter(pk=contact.pk).exists():
            data["contact_id"] = contact.pk
        try:
            with transaction.atomic():
                made = create_task(owner, data)
        except (ValidationError, PermissionDenied) as exc:  # the answer stands without its task
            logger.warning("no call-back task for NPS answer %s: %s", response.pk, exc)
            return None
        notify(owner, _("A detractor answered the NPS survey: call back %(name)s.") % {"name": contact.name},
               reverse("service:nps_detail", args=[response.survey_id]), key=f"nps-detractor:{response.pk}")
    return made


# ------------------------------------------------------------------ results


@dataclass
class Results:
    """A survey's figures over the contacts the viewer may see."""

    breakdown: nps.Breakdown
    invited: int = 0  # e-mails to send (not skipped)
    sent: int = 0
    failed: int = 0  # given up after the last attempt
    skipped: dict[str, int] = field(default_factory=dict)  # reason → contacts

    @property
    def pending(self) -> int:
        return self.invited - self.sent - self.failed

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def response_rate(self) -> Decimal | None:
        return nps.percent(self.breakdown.responses, self.sent)

    def category_rows(self) -> list[tuple[str, str, str, int, Decimal | None]]:
        """(category, its label, its scores, answers, share in percent) for promoters, passives, detractors."""
        b = self.breakdown
        counts = {nps.PROMOTER: b.promoters, nps.PASSIVE: b.passives, nps.DETRACTOR: b.detractors}
        return [(c, str(GROUP_LABELS[c]), nps.score_range(c), counts[c], b.share(c)) for c in nps.CATEGORIES]

    def skipped_rows(self) -> list[tuple[str, str, int]]:
        """(reason, its label, contacts) for every reason, in the order they are checked."""
        return [(r, str(SkipReason(r).label), self.skipped.get(r, 0)) for r in nps.SKIP_REASONS]

    def as_dict(self) -> dict[str, Any]:
        b = self.breakdown
        return {"responses": b.responses, "promoters": b.promoters, "passives": b.passives,
                "detractors": b.detractors, "promoter_share": b.share(nps.PROMOTER),
                "passive_share": b.share(nps.PASSIVE), "detractor_share": b.share(nps.DETRACTOR), "nps": b.score,
                "invited": self.invited, "sent": self.sent, "pending": self.pending, "failed": self.failed,
                "skipped": self.skipped_total, "skipped_by_reason": {r: n for r, _l, n in self.skipped_rows()},
                "response_rate": self.response_rate}


def results(user: User, survey: NpsSurvey) -> Results:
    """Two aggregate queries (after the visibility look-ups), however many invitations and answers."""
    visible = _visible_contacts(user)
    row = NpsResponse.objects.filter(survey=survey, contact__in=visible).aggregate(**category_counts())
    to_send = Q(skip_reason="")
    given_up = to_send & Q(sent_at__isnull=True, attempts__gte=survey_mail.MAX_ATTEMPTS)
    inv = NpsInvitation.objects.filter(survey=survey, contact__in=visible).aggregate(
        invited=Count("pk", filter=to_send), sent=Count("pk", filter=to_send & Q(sent_at__isnull=False)),
        failed=Count("pk", filter=given_up),
        **{f"skip_{r}": Count("pk", filter=Q(skip_reason=r)) for r in nps.SKIP_REASONS})
    return Results(breakdown=breakdown_of(row), invited=inv["invited"], sent=inv["sent"], failed=inv["failed"],
                   skipped={r: inv[f"skip_{r}"] for r in nps.SKIP_REASONS})


def surveys_page(user: User, sort: str = "-created_at", cursor: str | None = None, limit: int = 50) -> Page:
    """A keyset page of surveys, newest first, each summarised (see `summarise`): three queries a page."""
    page = paginate(NpsSurvey.objects.select_related("created_by", "account_owner"), sort=sort,
                    allowed=SURVEY_SORTS, cursor=cursor, limit=limit)
    summarise(user, page.items)
    return page


def summarise(user: User, surveys: list[NpsSurvey]) -> list[NpsSurvey]:
    """Give each survey `breakdown` (its answers), `invited` and `skipped_count` over the contacts `user` may see:
    two grouped queries (and the visibility look-ups), however many surveys."""
    ids = [s.pk for s in surveys]
    visible = _visible_contacts(user)
    answers = {r["survey"]: r for r in NpsResponse.objects.filter(survey__in=ids, contact__in=visible)
               .values("survey").annotate(**category_counts()).order_by()}
    invited = {r["survey"]: r for r in NpsInvitation.objects.filter(survey__in=ids, contact__in=visible)
               .values("survey").annotate(invited=Count("pk", filter=Q(skip_reason="")),
                                          skipped=Count("pk", filter=~Q(skip_reason=""))).order_by()}
    empty = dict.fromkeys(nps.CATEGORIES, 0)
    for survey in surveys:
        survey.breakdown = breakdown_of(answers.get(survey.pk, empty))
        survey.invited = invited.get(survey.pk, {}).get("invited", 0)
        survey.skipped_count = invited.get(survey.pk, {}).get("skipped", 0)
    return surveys


def _category(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in nps.CATEGORIES:
        fail({"category": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(nps.CATEGORIES)}]})
    return value


def answers(user: User, survey: NpsSurvey, category: Any = None) -> QuerySet:
    """The answers to the survey of the contacts `user` may see (optionally one category), with contact, account
    and follow-up task."""
    qs = (NpsResponse.objects.filter(survey=survey, contact__in=_visible_contacts(user))
          .select_related("contact", "account", "follow_up"))
    which = _category(category)
    return qs.filter(CATEGORY_Q[which]) if which else qs


def answers_page(user: User, survey: NpsSurvey, *, category: Any = None, sort: str = "-at",
                 cursor: str | None = None, limit: int = 50) -> Page:
    return paginate(answers(user, survey, category), sort=sort, allowed=ANSWER_SORTS, cursor=cursor, limit=limit)


CSV_HEADERS = ["answered_at", "score", "category", "reason", "contact_id", "contact", "email", "account_id",
               "account", "follow_up_task_id"]


def csv_rows(user: User, survey: NpsSurvey, category: Any = None) -> Iterator[list[Any]]:
    """Every answer the user may see, newest first, as CSV rows (times in the user's zone)."""
    for r in answers(user, survey, category).order_by("-at", "-pk").iterator(chunk_size=500):
        yield [timezone.localtime(r.at).isoformat(timespec="seconds"), r.score, r.category, r.reason, r.contact_id,
               r.contact.name, r.contact.email, r.account_id, r.account.name if r.account else "", r.follow_up_id]


def category_label(which: str) -> str:
    return str(Category(which).label)
