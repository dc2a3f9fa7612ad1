"""The knowledge base in the portal: search and read published public articles, 'was this helpful?'.
Open to anyone (signed in or not); internal articles and drafts are a 404 here."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import get_random_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.records import int_or_none
from guanxi.core.ui import clean_param
from guanxi.knowledge import markup, queries
from guanxi.knowledge import services as knowledge
from guanxi.knowledge.models import Article, SearchLog, SearchSource

from . import session
from .ui import errors_of, page

SEARCH_PAGE = 20
VISITOR_KEY = "portal_visitor"


def _visitor(request: HttpRequest) -> str:
    """The signed-in customer's key, else one kept in the session for anonymous visitors."""
    user = session.current(request)
    if user is not None:
        return f"portal-{user.pk}"
    if VISITOR_KEY not in request.session:
        request.session[VISITOR_KEY] = "anon-" + get_random_string(24)
    return request.session[VISITOR_KEY]


def public_articles():
    return Article.objects.visible_to(None, public_only=True)


@require_GET
def kb(request: HttpRequest) -> HttpResponse:
    q = clean_param(request.GET.get("q"), 200)
    cursor = clean_param(request.GET.get("cursor"), 1000) or None
    result, errors, log = None, [], None
    if q:
        try:
            result = queries.search_page(public_articles().select_related("category"), q, cursor=cursor,
                                         limit=SEARCH_PAGE)
        except ValidationError as exc:
            errors = exc.messages
        if result is not None and not cursor:
            log = knowledge.record_search(q, results_count=len(result.items), visitor_key=_visitor(request),
                                          source=SearchSource.PORTAL, language=translation.get_language() or "")
    latest = [] if q else public_articles().order_by("-helpful_count", "-updated_at", "-pk")[:10]
    return page(request, "portal/kb.html", {"q": q, "page": result, "errors": errors, "latest": latest,
                                            "search_id": log.pk if log else request.GET.get("search", "")})


def _own_search(request: HttpRequest, value) -> SearchLog | None:
    pk = int_or_none(value)
    return SearchLog.objects.filter(pk=pk, source=SearchSource.PORTAL, visitor_key=_visitor(request)).first() \
        if pk else None


@require_GET
def article(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(public_articles().select_related("category"), pk=pk)
    knowledge.record_view(obj)
    log = _own_search(request, request.GET.get("search"))
    if log is not None and log.clicked_article_id is None:
        knowledge.mark_search(log, clicked_article=obj)
    vote = obj.feedback.filter(user=None, visitor_key=_visitor(request)).values_list("helpful", flat=True).first()
    return page(request, "portal/article.html", {
        "obj": obj, "body_html": mark_safe(markup.render(obj.body)),  # noqa: S308 (the writer's HTML is escaped)
        "vote": vote, "search_id": log.pk if log else ""})


@require_POST
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    """Was this helpful? A 'yes' after a search ends that search without a ticket (deflected)."""
    obj = get_object_or_404(public_articles(), pk=pk)
    helpful = {"yes": True, "no": False}.get(request.POST.get("helpful", ""))
    try:
        knowledge.rate_article(obj, helpful=helpful, visitor_key=_visitor(request),
                               comment=clean_param(request.POST.get("comment"), 2000))
    except ValidationError as exc:
        return page(request, "portal/message.html", {"title": obj.title, "failed": True,
                                                     "text": " ".join(sum(errors_of(exc).values(), []))}, status=400)
    log = _own_search(request, request.POST.get("search"))
    if helpful and log is not None and log.ended_without_ticket is None:
        knowledge.mark_search(log, ended_without_ticket=True)
    url = reverse("portal:article", args=[obj.pk]) + "?voted=1"
    return redirect(url + (f"&search={log.pk}" if log else ""))
