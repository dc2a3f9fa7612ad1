"""Follow-up pages: the personal agenda (day / week / month, htmx), the home page's "Today" card, the task
and activity forms, the calendar feed (its settings page and the token URL itself) and the hand-over form.
Views parse, call services or queries, and render."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.models import User
from guanxi.core.services import visible_users
from guanxi.core.ui import is_htmx
from guanxi.customers.models import Account
from guanxi.customers.services import validation_messages
from guanxi.sales.models import Opportunity

from . import ical, services
from .models import Activity, ActivityKind, Direction, Priority, Task, TaskKind, TaskStatus

VIEWS = ("day", "week", "month")
FEED_WINDOW = dt.timedelta(days=90)  # the feed: from this long ago, and everything ahead
FEED_MAX = 2000
FOLLOWUP_ROWS = 20


# ------------------------------------------------------------------ agenda


def _range(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    if view == "day":
        return day, day + dt.timedelta(days=1)
    if view == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + dt.timedelta(days=32)).replace(day=1)


def _step(view: str, day: dt.date, sign: int) -> dt.date:
    if view == "day":
        return day + dt.timedelta(days=sign)
    if view == "week":
        return day + dt.timedelta(days=7 * sign)
    month = day.replace(day=1) + dt.timedelta(days=32 if sign > 0 else -1)
    return month.replace(day=1)


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())


def _agenda_context(request: HttpRequest) -> dict[str, Any]:
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "week"
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else today
    except ValueError:
        day = today
    start, end = _range(view, day)
    tasks = list(
        Task.objects.filter(owner=request.user, at__gte=_aware(start), at__lt=_aware(end))
        .exclude(status=TaskStatus.CANCELLED)
        .select_related("account", "contact", "lead")
        .order_by("at", "pk")
    )
    by_day: dict[dt.date, list[Task]] = defaultdict(list)
    for task in tasks:
        by_day[timezone.localdate(task.at)].append(task)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)] if view != "month" else _month_weeks(start, end)
    return {
        "view": view,
        "day": day,
        "today": today,
        "start": start,
        "end": end - dt.timedelta(days=1),
        "days": [(d, by_day.get(d, [])) for d in days],
        "by_day": by_day,
        "weeks": weeks,
        "prev": _step(view, day, -1),
        "next": _step(view, day, 1),
        "views": VIEWS,
        "tasks": tasks,
    }


def _month_weeks(start: dt.date, end: dt.date) -> list[list[dt.date | None]]:
    weeks = cal.Calendar().monthdatescalendar(start.year, start.month)
    return [[d if start <= d < end else None for d in week] for week in weeks]


@login_required
@require_GET
def agenda(request: HttpRequest) -> HttpResponse:
    context = _agenda_context(request)
    context["month_rows"] = (
        [[(d, context["by_day"].get(d, [])) if d else (None, []) for d in week] for week in context["weeks"]]
        if context["view"] == "month"
        else []
    )
    if is_htmx(request) and request.headers.get("HX-Target") == "agenda":
        return render(request, "activities/_agenda.html", context)
    return render(request, "activities/agenda.html", context)


def _today_tasks(user: User) -> list[Task]:
    end = _aware(timezone.localdate() + dt.timedelta(days=1))
    return list(
        Task.objects.filter(owner=user, status=TaskStatus.OPEN, at__lt=end)
        .select_related("account", "lead")
        .order_by("at", "pk")[:30]
    )


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """The home page's "Today" card: open tasks that are overdue or due today."""
    return render(request, "activities/_today.html", {"tasks": _today_tasks(request.user), "now": timezone.now()})


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    try:
        services.complete_task(request.user, task)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    if is_htmx(request):
        if request.headers.get("HX-Target") == "today":
            return today(request)
        return HttpResponse(status=204, headers={"HX-Trigger": "agenda-changed"})
    return redirect(request.POST.get("next") or reverse("activities:agenda"))


def followup_context(card_id: str, links: dict[str, int], **subject: Any) -> dict[str, Any]:
    """What the follow-up card (activities/_followup.html) shows of one record: its latest activities and its
    open tasks — two queries, whatever their number — and the links its "Log activity" and "New task" buttons
    carry to the forms. `subject`: the filter, e.g. lead=lead; `links`: the form's hidden *_id fields."""
    activities = list(Activity.objects.filter(**subject).select_related("author")[:FOLLOWUP_ROWS])
    tasks = list(Task.objects.filter(status=TaskStatus.OPEN, **subject).select_related("owner")[:FOLLOWUP_ROWS])
    return {
        "followup_id": card_id,
        "followup_activities": activities,
        "followup_tasks": tasks,
        "followup_links": urlencode(links),
    }


@login_required
@require_GET
def opportunity_followup(request: HttpRequest, pk: int) -> HttpResponse:
    """The opportunity page's follow-up card: its latest activities and its open tasks."""
    opp = get_object_or_404(Opportunity.objects.visible_to(request.user), pk=pk)
    links = {"opportunity_id": opp.pk, "account_id": opp.account_id}
    context = followup_context("opportunity-followup", links, opportunity=opp)
    return render(request, "activities/_followup.html", context)


# ------------------------------------------------------------------ forms


def _choices(user: User) -> dict[str, Any]:
    return {
        "kinds": TaskKind.choices,
        "priorities": Priority.choices,
        "assignees": visible_users(user).order_by("username"),
        "activity_kinds": [c for c in ActivityKind.choices if c[0] != ActivityKind.HANDOVER],
        "directions": Direction.choices,
    }


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    errors = dict(validation_messages(exc))
    if "__all__" in errors:  # templates cannot read a key that starts with an underscore
        errors["form"] = errors.pop("__all__")
    return errors


def _subject_links(request: HttpRequest) -> dict[str, str]:
    return {k: request.GET.get(k, "") for k in services.LINK_FIELDS}


@login_required
def task_create(request: HttpRequest) -> HttpResponse:
    data: dict[str, Any] = {"date": request.GET.get("date", ""), **_subject_links(request)}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        payload = {**data, "all_day": data.get("all_day") == "on"}
        payload = {k: v for k, v in payload.items() if v != "" or k in services.LINK_FIELDS}
        try:
            task = services.create_task(request.user, payload)
        except ValidationError as exc:
            errors = _errors(exc)
        except PermissionDenied as exc:
            errors = {"form": [str(exc)]}
        else:
            messages.success(request, _("Task saved."))
            date = timezone.localdate(task.at).isoformat() if task.at else ""
            return redirect(f"{reverse('activities:agenda')}?date={date}")
    return render(
        request,
        "activities/task_form.html",
        {"data": data, "errors": errors, **_choices(request.user)},
        status=400 if errors else 200,
    )


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    """Log a call, visit, email or document sent; with a file upload for documents."""
    data: dict[str, Any] = _subject_links(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        payload = {k: v for k, v in data.items() if v != ""}
        try:
            activity = services.log_activity(request.user, payload, request.FILES.get("document_file"))
        except ValidationError as exc:
            errors = _errors(exc)
        except PermissionDenied as exc:
            errors = {"form": [str(exc)]}
        else:
            messages.success(request, _("Activity logged."))
            if activity.account_id:
                return redirect("customers:account_detail", activity.account_id)
            if activity.contact_id:
                return redirect("customers:contact_detail", activity.contact_id)
            if activity.opportunity_id:
                return redirect("sales:opportunity_detail", activity.opportunity_id)
            return redirect("sales:lead_detail", activity.lead_id)
    return render(
        request,
        "activities/activity_form.html",
        {"data": data, "errors": errors, **_choices(request.user)},
        status=400 if errors else 200,
    )


# ------------------------------------------------------------------ calendar feed


@login_required
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """Create, regenerate or revoke the secret address of the user's calendar feed."""
    token = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.revoke_calendar_token(request.user)
            messages.success(request, _("The calendar address no longer works."))
            return redirect("activities:calendar_settings")
        token = services.new_calendar_token(request.user)
    feed = getattr(request.user, "calendar_feed", None) if not token else None
    url = request.build_absolute_uri(reverse("activities:calendar_feed", args=[token])) if token else ""
    return render(request, "activities/calendar_settings.html", {"url": url, "feed": feed, "token": token})


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """text/calendar for the feed's owner; an unknown or revoked token is a 404."""
    user = services.user_for_calendar_token(token)
    if user is None:
        raise Http404
    now = timezone.now()
    tasks = (
        Task.objects.filter(owner=user, at__gte=now - FEED_WINDOW)
        .select_related("account", "lead")
        .order_by("at", "pk")[:FEED_MAX]
    )
    base = request.build_absolute_uri("/")
    events = [_event(t, base) for t in tasks]
    name = _("Guanxi: %(user)s") % {"user": user}
    response = HttpResponse(ical.calendar(name, events, now), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _event(task: Task, base: str) -> ical.Event:
    summary = ("✓ " if task.status == TaskStatus.DONE else "") + task.title
    about = task.account.name if task.account else str(task.lead) if task.lead else ""
    description = "\n".join(filter(None, [about, task.description]))
    end = task.end_at if task.kind == TaskKind.APPOINTMENT else None
    return ical.Event(
        uid=f"task-{task.pk}@guanxi",
        start=task.at,
        end=end,
        summary=summary,
        description=description,
        location=task.location,
        all_day=task.all_day,
        status="CANCELLED" if task.status == TaskStatus.CANCELLED else "CONFIRMED",
        updated=task.updated_at,
        url=f"{base.rstrip('/')}/agenda/?date={task.at.date().isoformat()}",
    )


# ------------------------------------------------------------------ hand-over


@login_required
def hand_over(request: HttpRequest) -> HttpResponse:
    """Hand over one account (?account=) or all of a colleague's accounts (?from_user=)."""
    user = request.user
    account = None
    if request.GET.get("account") or request.POST.get("account"):
        pk = request.POST.get("account") or request.GET.get("account")
        account = get_object_or_404(Account.objects.visible_to(user), pk=pk if str(pk).isdigit() else 0)
    from_user = request.POST.get("from_user") or request.GET.get("from_user") or ""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            result = services.hand_over(
                user,
                request.POST.get("to_user"),
                from_user=None if account else from_user,
                accounts=[account.pk] if account else None,
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        except PermissionDenied as exc:
            errors = {"form": [str(exc)]}
        else:
            messages.success(
                request,
                _("Handed over: %(a)s accounts, %(t)s open tasks, %(o)s open opportunities.")
                % {"a": result.accounts, "t": result.tasks, "o": result.opportunities},
            )
            return redirect("customers:account_detail", account.pk) if account else redirect("home")
    context = {
        "account": account,
        "from_user": from_user,
        "errors": errors,
        "note": request.POST.get("note", ""),
        "users": visible_users(user).order_by("username"),
    }
    return render(request, "activities/hand_over.html", context, status=400 if errors else 200)
