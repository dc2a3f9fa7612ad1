"""Core pages: log in and out, the language switch, home ("my work"), search, saved views, jobs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from guanxi.customers.models import Account, Contact

from .access import require_admin
from .forms import SavedViewForm
from .models import AuditEntry, JobProgress, JobStatus, SavedView, User
from .search import capped_count, matching
from .services import clear_login_failures, login_blocked, record_login_failure
from .ui import ChangeDescriber, clean_param, client_address, is_htmx, safe_next

# ---------------------------------------------------------------- log in, log out, language


class LoginView(auth_views.LoginView):
    """Django's login, throttled per user name and per address: a blocked attempt is refused
    before the password is even checked, so guessing stops working once the limit is reached."""

    template_name = "core/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = clean_param(request.POST.get("username"), 150)
        if login_blocked(username, client_address(request)):
            form = self.form_class(request, initial={"username": username})
            return self.render_to_response(self.get_context_data(form=form, blocked=True), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        clear_login_failures(user.username)
        response = super().form_valid(form)
        language = user.language
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                                path=settings.LANGUAGE_COOKIE_PATH, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY)
        return response

    def form_invalid(self, form) -> HttpResponse:
        username = clean_param(self.request.POST.get("username"), 150)
        address = client_address(self.request)
        record_login_failure(username, address)
        blocked = login_blocked(username, address)
        return self.render_to_response(self.get_context_data(form=form, blocked=blocked))


logout_view = auth_views.LogoutView.as_view()


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie), and for a signed-in user the choice is kept on the account,
    so it follows them to another browser at their next log-in."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response


# ---------------------------------------------------------------- home


def _my_changes(user: User, limit: int = 15) -> list[tuple[AuditEntry, list, str]]:
    """The newest audit entries on records the user owns, each with readable rows and a link."""
    cts = ContentType.objects.get_for_models(Account, Contact)
    entries = list(
        AuditEntry.objects.filter(
            Q(content_type=cts[Account], object_id__in=Account.objects.filter(owner=user).values("pk"))
            | Q(content_type=cts[Contact], object_id__in=Contact.objects.filter(owner=user).values("pk"))
        ).select_related("actor")[:limit]
    )
    out = []
    for model in (Account, Contact):
        mine = [e for e in entries if e.content_type_id == cts[model].pk]
        rows = ChangeDescriber(model, user).describe([e.changes for e in mine])
        name = model._meta.model_name
        for entry, entry_rows in zip(mine, rows, strict=True):
            out.append((entry, entry_rows, reverse(f"customers:{name}_detail", args=[entry.object_id])))
    out.sort(key=lambda t: (t[0].at, t[0].pk), reverse=True)
    return out


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "accounts": Account.objects.filter(owner=user).select_related("owner").order_by("-updated_at")[:8],
        "contacts": Contact.objects.filter(owner=user).select_related("primary_account")
        .order_by("-updated_at")[:8],
        "account_count": Account.objects.filter(owner=user).count(),
        "contact_count": Contact.objects.filter(owner=user).count(),
        "visible_account_count": Account.objects.visible_to(user).count(),
        "visible_contact_count": Contact.objects.visible_to(user).count(),
        "changes": _my_changes(user),
        "jobs": _recent_jobs(HOME_JOBS) if user.is_administrator else [],
        "job_limit": HOME_JOBS,
    }
    return render(request, "core/home.html", context)


# ---------------------------------------------------------------- search


def _search(user: User, query: str, limit: int) -> dict[str, Any]:
    accounts = matching(Account.objects.visible_to(user), query)
    contacts = matching(Contact.objects.visible_to(user), query)
    return {
        "query": query,
        "accounts": list(accounts.select_related("owner").order_by("name", "pk")[:limit]),
        "contacts": list(contacts.select_related("primary_account", "owner").order_by("name", "pk")[:limit]),
        "account_total": capped_count(accounts) if query else 0,
        "contact_total": capped_count(contacts) if query else 0,
    }


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = clean_param(request.GET.get("q"))
    context = _search(request.user, query, 25)
    context["search_query"] = query
    return render(request, "core/search.html", context)


@login_required
@require_GET
def search_suggest(request: HttpRequest) -> HttpResponse:
    """The live drop-down under the search box (an htmx fragment)."""
    query = clean_param(request.GET.get("q"))
    context = _search(request.user, query, 5) if query else {"query": ""}
    return render(request, "core/_search_suggest.html", context)


# ---------------------------------------------------------------- saved views


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    back = safe_next(request, request.POST.get("next"), "/")
    if form.is_valid():
        view = form.save(request.user)
        messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
        path = back.split("?", 1)[0]
        return HttpResponseRedirect(f"{path}?{view.query}" if view.query else path)
    errors = "; ".join(f"{e}" for errs in form.errors.values() for e in errs)
    messages.error(request, _("The view was not saved: %(errors)s") % {"errors": errors})
    return HttpResponseRedirect(back)


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, user=request.user)
    view.delete()
    messages.success(request, _("Deleted the view “%(name)s”.") % {"name": view.name})
    return HttpResponseRedirect(safe_next(request, request.POST.get("next"), "/"))


# ---------------------------------------------------------------- jobs


HOME_JOBS = 3
LIST_JOBS = 20


def _recent_jobs(limit: int) -> list[JobProgress]:
    return list(JobProgress.objects.select_related("user")[:limit])


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return render(request, "core/jobs.html", {"jobs": _recent_jobs(LIST_JOBS), "job_limit": LIST_JOBS})


@login_required
@require_POST
def job_rebuild_search(request: HttpRequest) -> HttpResponse:
    """Start the search-index rebuild in the background (or find the one already running) and answer
    with the job list, newest first, whose running bars poll their progress."""
    require_admin(request.user)
    from . import jobs

    job = jobs.start_search_rebuild(request.user)
    if is_htmx(request):
        limit = LIST_JOBS if request.POST.get("limit") == str(LIST_JOBS) else HOME_JOBS
        others = [j for j in _recent_jobs(limit) if j.pk != job.pk]
        return render(request, "core/_job_list.html", {"jobs": [job, *others][:limit]})
    messages.info(request, _("The search index is being rebuilt."))
    return redirect("job_list")


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: str) -> HttpResponse:
    """The progress bar of one job; htmx polls it every second until the job ends (HTTP 286 stops polling)."""
    qs = JobProgress.objects.all() if request.user.is_administrator else JobProgress.objects.filter(
        user=request.user)
    job = get_object_or_404(qs, pk=pk)
    finished = job.status in (JobStatus.DONE, JobStatus.FAILED)
    response = render(request, "core/_job_progress.html", {"job": job})
    if finished and is_htmx(request):
        response.status_code = 286
    return response
