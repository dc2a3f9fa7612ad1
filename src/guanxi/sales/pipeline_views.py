"""Pipeline and stage administration (administrators only): list, create, rename, make default, delete;
stages added, edited, moved up or down and deleted. Every rule is the services'; a refused change
changes nothing and says why."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.access import require_admin
from guanxi.core.ui import flash_errors

from . import services
from .forms import PipelineForm, StageForm
from .models import Opportunity, Pipeline, Stage

# The 403's reason on every page here (the message is the same for each).
ADMIN_ONLY = gettext_lazy("Only an administrator may change pipelines and stages.")


def _count(**outer: str) -> Coalesce:
    """How many opportunities a pipeline or stage holds, as a subquery (no join over the opportunities)."""
    rows = Opportunity.objects.filter(**{k: OuterRef(v) for k, v in outer.items()}).order_by().values(
        *outer).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@login_required
@require_GET
def pipeline_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    pipelines = Pipeline.objects.annotate(opportunity_count=_count(pipeline="pk")).prefetch_related("stages")
    return render(request, "sales/pipeline_list.html", {"pipelines": pipelines})


@login_required
def pipeline_create(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    form = PipelineForm(request.POST or None, initial={"currency": "CNY"})
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.create_pipeline(request.user, dict(form.cleaned_data))
            messages.success(request, _("Created the pipeline “%(name)s” with the default stages; adjust them "
                                        "below.") % {"name": pipeline})
            return redirect("sales:pipeline_detail", pipeline.pk)
        except ValidationError as exc:
            form.add_service_errors(services.validation_messages(exc))
    return render(request, "sales/pipeline_form.html", {"form": form},
                  status=400 if form.errors else 200)


def _detail(request: HttpRequest, pipeline: Pipeline, *, form: PipelineForm | None = None,
            new_stage: StageForm | None = None, bound: StageForm | None = None, bound_pk: int | None = None
            ) -> HttpResponse:
    """The pipeline page; the form that failed (if any) is shown bound, with its errors, status 400."""
    stages = list(Stage.objects.filter(pipeline=pipeline).annotate(opportunity_count=_count(stage="pk"))
                  .order_by("position", "id"))
    rows = [(stage, bound if stage.pk == bound_pk else StageForm(
        prefix=f"stage-{stage.pk}", initial={"name": stage.name, "probability": stage.probability,
                                             "kind": stage.kind})) for stage in stages]
    failed = any(f is not None and f.errors for f in (form, new_stage, bound))
    return render(request, "sales/pipeline_detail.html", {
        "pipeline": pipeline, "rows": rows,
        "form": form or PipelineForm(initial={"name": pipeline.name, "currency": pipeline.currency}),
        "new_stage": new_stage or StageForm(prefix="new", initial={"kind": "open", "probability": 50}),
    }, status=400 if failed else 200)


@login_required
def pipeline_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The pipeline and its stages; a POST renames it (or changes its currency)."""
    require_admin(request.user, ADMIN_ONLY)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    if request.method != "POST":
        return _detail(request, pipeline)
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            services.update_pipeline(request.user, pipeline, dict(form.cleaned_data))
            messages.success(request, _("Saved the pipeline “%(name)s”.") % {"name": pipeline})
            return redirect("sales:pipeline_detail", pipeline.pk)
        except ValidationError as exc:
            form.add_service_errors(services.validation_messages(exc))
            pipeline.refresh_from_db()
    return _detail(request, pipeline, form=form)


@login_required
@require_POST
def pipeline_default(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    services.update_pipeline(request.user, pipeline, {"is_default": True})
    messages.success(request, _("“%(name)s” is now the default pipeline.") % {"name": pipeline})
    return redirect("sales:pipeline_list")


@login_required
@require_POST
def pipeline_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    try:
        services.delete_pipeline(request.user, pipeline)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("sales:pipeline_detail", pipeline.pk)
    messages.success(request, _("Deleted the pipeline “%(name)s”.") % {"name": pipeline})
    return redirect("sales:pipeline_list")


@login_required
@require_POST
def stage_add(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            stage = services.add_stage(request.user, pipeline, dict(form.cleaned_data))
            messages.success(request, _("Added the stage “%(name)s”.") % {"name": stage})
            return redirect("sales:pipeline_detail", pipeline.pk)
        except ValidationError as exc:
            form.add_service_errors(services.validation_messages(exc))
    return _detail(request, pipeline, new_stage=form)


def _stage(pk: int, stage_id: int) -> Stage:
    return get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id, pipeline_id=pk)


@login_required
@require_POST
def stage_edit(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    stage = _stage(pk, stage_id)
    form = StageForm(request.POST, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        try:
            services.update_stage(request.user, stage, dict(form.cleaned_data))
            messages.success(request, _("Saved the stage “%(name)s”.") % {"name": form.cleaned_data["name"]})
            return redirect("sales:pipeline_detail", stage.pipeline_id)
        except ValidationError as exc:
            form.add_service_errors(services.validation_messages(exc))
    return _detail(request, stage.pipeline, bound=form, bound_pk=stage.pk)


@login_required
@require_POST
def stage_move(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """One place up or down (the buttons); the services renumber every stage in one go."""
    require_admin(request.user, ADMIN_ONLY)
    stage = _stage(pk, stage_id)
    ids = list(stage.pipeline.stages.order_by("position", "id").values_list("pk", flat=True))
    at = ids.index(stage.pk)
    to = at - 1 if request.POST.get("direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        services.reorder_stages(request.user, stage.pipeline, ids)
    return redirect("sales:pipeline_detail", stage.pipeline_id)


@login_required
@require_POST
def stage_delete(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    stage = _stage(pk, stage_id)
    try:
        services.delete_stage(request.user, stage)
        messages.success(request, _("Deleted the stage “%(name)s”.") % {"name": stage})
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("sales:pipeline_detail", stage.pipeline_id)
