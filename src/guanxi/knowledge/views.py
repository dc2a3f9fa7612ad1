"""Knowledge-base pages: home with categories and search, article page (helpful buttons, versions), editor,
FAQ statistics, suggestions for a reply box (htmx), and the bulletin board. Views parse, call services or
queries, and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.records import EditConflict, int_or_none
from guanxi.core.ui import clean_param, flash_errors

from . import markup, queries, services
from .forms import ArticleForm, BulletinForm
from .models import Article, ArticleStatus, ArticleVersion, BulletinKind, Category, SearchSource, is_editor

SEARCH_PAGE = 20
PERIODS = (7, 30, 90, 365)


def _article(request: HttpRequest, pk: int) -> Article:
    return get_object_or_404(Article.objects.visible_to(request.user), pk=pk)


def _require_editor(request: HttpRequest) -> None:
    if not is_editor(request.user):
        raise PermissionDenied(_("Your role may not change the knowledge base."))


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    published = Q(articles__status=ArticleStatus.PUBLISHED)
    categories = list(Category.objects.annotate(count=Count("articles", filter=published)))
    children: dict[int | None, list[Category]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    tree: list[tuple[int, Category]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for c in children.get(parent_id, []):
            tree.append((depth, c))
            if depth < 10:
                walk(c.pk, depth + 1)

    walk(None, 0)
    qs = Article.objects.visible_to(user).select_related("category")
    category = int_or_none(request.GET.get("category"))
    if category:
        qs = qs.filter(category_id=category)
    context = {
        "tree": tree, "category": category, "can_edit": is_editor(user),
        "articles": qs.filter(status=ArticleStatus.PUBLISHED).order_by("-updated_at", "-pk")[:30],
        "drafts": qs.exclude(status=ArticleStatus.PUBLISHED).order_by("-updated_at", "-pk")[:30]
        if is_editor(user) else [],
        "unread": queries.unread_count(user),
    }
    return render(request, "knowledge/home.html", context)


@login_required
@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    """The search box's results (htmx fragment, or a whole page without htmx); each first page is logged."""
    q = clean_param(request.GET.get("q"), 200)
    cursor = clean_param(request.GET.get("cursor"), 1000) or None
    page, errors = None, []
    if q:
        qs = Article.objects.visible_to(request.user).filter(status=ArticleStatus.PUBLISHED).select_related(
            "category")
        try:
            page = queries.search_page(qs, q, cursor=cursor, limit=SEARCH_PAGE)
        except ValidationError as exc:
            errors = exc.messages
        if page is not None and not cursor:
            services.record_search(q, results_count=len(page.items), user=request.user, source=SearchSource.AGENT,
                                   language=request.LANGUAGE_CODE)
    context = {"q": q, "page": page, "errors": errors}
    template = "knowledge/_search_results.html" if request.headers.get("HX-Request") else "knowledge/search.html"
    return render(request, template, context)


@login_required
@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """Articles for the text of a reply box (`text`), as the agent types (htmx, debounced by the caller)."""
    text = clean_param(request.GET.get("text"), 5000)
    public_only = request.GET.get("public_only") in ("1", "true")
    articles = services.suggest_articles(text, public_only=public_only, limit=5) if text else []
    return render(request, "knowledge/_suggestions.html", {"articles": articles})


@login_required
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.visible_to(request.user).select_related(
        "category", "author", "editor").prefetch_related("tags"), pk=pk)
    services.record_view(article)
    vote = article.feedback.filter(user=request.user).values_list("helpful", flat=True).first()
    return render(request, "knowledge/article_detail.html", {
        "obj": article, "body_html": mark_safe(markup.render(article.body)),  # noqa: S308 (writer's HTML escaped)
        "versions": article.versions.select_related("editor")[:50], "vote": vote,
        "can_edit": is_editor(request.user)})


@login_required
@require_POST
def article_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    helpful = {"yes": True, "no": False}.get(request.POST.get("helpful", ""))
    try:
        services.rate_article(article, helpful=helpful, user=request.user,
                              comment=clean_param(request.POST.get("comment"), 2000))
    except ValidationError as exc:
        flash_errors(request, exc)
    article.refresh_from_db()
    context = {"obj": article, "vote": helpful, "thanks": True}
    if request.headers.get("HX-Request"):
        return render(request, "knowledge/_feedback.html", context)
    return redirect("knowledge:article_detail", article.pk)


@login_required
def article_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_editor(request)
    instance = _article(request, pk) if pk else None
    if request.method == "POST":
        form = ArticleForm(request.POST, instance=instance)
        if form.is_valid():
            try:
                if instance is None:
                    article = services.create_article(request.user, form.to_data())
                    messages.success(request, _("Created “%(name)s”.") % {"name": article})
                else:
                    article = services.update_article(request.user, instance, form.to_data(),
                                                      form.cleaned_data.get("version"))
                    messages.success(request, _("Saved “%(name)s”.") % {"name": article})
                return redirect("knowledge:article_detail", article.pk)
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
            except EditConflict as exc:
                form.add_error(None, _("Someone saved this article while you were editing it (now version "
                                       "%(version)s). Reload it and apply your change again.")
                               % {"version": exc.current.version})
    else:
        form = ArticleForm(instance=instance)
    return render(request, "knowledge/article_form.html", {"form": form, "obj": instance})


@login_required
@require_POST
def article_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    article = _article(request, pk)
    action = {"publish": services.publish_article, "archive": services.archive_article}.get(
        request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("Unknown action."))
        return redirect("knowledge:article_detail", article.pk)
    try:
        action(request.user, article, request.POST.get("version"))
    except ValidationError as exc:
        flash_errors(request, exc)
    except EditConflict:
        messages.error(request, _("Someone changed this article meanwhile; here is the current version."))
    return redirect("knowledge:article_detail", article.pk)


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    article = _article(request, pk)
    version = get_object_or_404(ArticleVersion.objects.select_related("editor"), article=article, number=number)
    return render(request, "knowledge/version_detail.html", {
        "obj": article, "version": version, "can_edit": is_editor(request.user),
        "body_html": mark_safe(markup.render(version.body))})  # noqa: S308 (writer's HTML escaped)


@login_required
@require_POST
def version_restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    _require_editor(request)
    article = _article(request, pk)
    try:
        services.restore_version(request.user, article, number, request.POST.get("version"))
        messages.success(request, _("Version %(number)s restored.") % {"number": number})
    except ValidationError as exc:
        flash_errors(request, exc)
    except EditConflict:
        messages.error(request, _("Someone changed this article meanwhile; here is the current version."))
    return redirect("knowledge:article_detail", article.pk)


@login_required
@require_POST
def category_create(request: HttpRequest) -> HttpResponse:
    try:
        services.create_category(request.user, {"name": request.POST.get("name", ""),
                                                "parent_id": request.POST.get("parent_id")})
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("knowledge:home")


@login_required
@require_GET
def faq_stats(request: HttpRequest) -> HttpResponse:
    days = int_or_none(request.GET.get("days"))
    days = days if days in PERIODS else 30
    since, until = queries.period(days)
    order = clean_param(request.GET.get("order"), 30) or "-view_count"
    return render(request, "knowledge/faq_stats.html", {
        "days": days, "periods": PERIODS, "order": order,
        "questions": queries.top_questions(since, until), "deflection": queries.deflection(since, until),
        "articles": queries.article_stats(request.user, order)})


# ------------------------------------------------------------------ bulletin board


@login_required
def bulletin_list(request: HttpRequest) -> HttpResponse:
    form = BulletinForm(actor=request.user)
    if request.method == "POST":
        form = BulletinForm(request.POST, actor=request.user)
        if form.is_valid():
            try:
                bulletin = services.post_bulletin(request.user, form.to_data())
                messages.success(request, _("Posted “%(name)s”.") % {"name": bulletin})
                return redirect("knowledge:bulletin_list")
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
    kind = clean_param(request.GET.get("kind"))
    kind = kind if kind in BulletinKind.values else ""
    rows = list(queries.bulletins(request.user, kind=kind)[:100])
    return render(request, "knowledge/bulletin_list.html", {
        "rows": rows, "form": form, "can_post": is_editor(request.user), "kind": kind, "kinds": BulletinKind.choices})


@login_required
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = get_object_or_404(queries.bulletins(request.user, include_expired=True), pk=pk)
    if request.method == "POST":
        try:
            services.comment_bulletin(request.user, bulletin, request.POST.get("body", ""))
            return redirect("knowledge:bulletin_detail", bulletin.pk)
        except ValidationError as exc:
            flash_errors(request, exc)
    services.mark_read(request.user, bulletin)
    return render(request, "knowledge/bulletin_detail.html", {
        "obj": bulletin, "comments": bulletin.comments.select_related("author"),
        "receipts": queries.receipts(request.user, bulletin),
        "can_manage": request.user.is_administrator or bulletin.author_id == request.user.pk,
        "body_html": mark_safe(markup.render(bulletin.body))})  # noqa: S308 (writer's HTML escaped)


def _bulletin_action(request: HttpRequest, pk: int, action) -> HttpResponse:  # type: ignore[no-untyped-def]
    bulletin = get_object_or_404(queries.bulletins(request.user, include_expired=True), pk=pk)
    try:
        action(bulletin)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("knowledge:bulletin_list")


@login_required
@require_POST
def bulletin_pin(request: HttpRequest, pk: int) -> HttpResponse:
    pinned = request.POST.get("pinned") != "0"
    return _bulletin_action(request, pk, lambda b: services.pin_bulletin(request.user, b, pinned))


@login_required
@require_POST
def bulletin_expire(request: HttpRequest, pk: int) -> HttpResponse:
    return _bulletin_action(request, pk, lambda b: services.expire_bulletin(request.user, b))
