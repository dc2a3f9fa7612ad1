"""Sales use cases: opportunities (create, edit, move on the board, reopen, delete) and the administration
of pipelines and stages. One function per user action, each in one transaction.

Bad input raises ValidationError keyed by field and changes nothing; a stale `version` raises EditConflict.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, User
from guanxi.core.records import check_version, clean_fields, diff, fail, int_or_none, snapshot, write_audit
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import clean_owner_and_custom, validation_messages  # noqa: F401 (views)
from guanxi.quality.normalize import clean_text

from .defaults import create_default_pipeline
from .models import Opportunity, Pipeline, Stage, StageKind
from .payment_models import CurrencyRate
from .quote_models import CompanyProfile

OPPORTUNITY_FIELDS = ["name", "amount", "expected_close", "competitors", "description"]
AUDITED = OPPORTUNITY_FIELDS + [
    "account_id", "contact_id", "pipeline_id", "stage_id", "status", "probability", "currency", "lost_reason",
    "closed_at", "owner_id", "custom",
]
CURRENCY = re.compile(r"^[A-Z]{3}$")


def no_rate_message(currency: str, base: str) -> str:
    return _("No exchange rate for %(currency)s into %(base)s: add one under Settings → Exchange rates.") % {
        "currency": currency, "base": base}


def check_rate(currency: str, errors: dict, field: str = "currency") -> None:
    """Money in a currency other than the company's needs an exchange rate, or the forecast, attainment and
    receivables could not count it: a deal, quote or contract in such a currency is refused at entry, naming
    the currency (the rate may be dated later than the deal; reports say which amounts it does not cover)."""
    if field in errors or not currency:
        return
    base = CompanyProfile.current().base_currency
    if currency != base and not CurrencyRate.objects.filter(currency=currency).exists():
        errors[field] = [no_rate_message(currency, base)]


def _require_editor(actor: User) -> None:
    if not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))


def _require_admin(actor: User) -> None:
    if not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator may change pipelines and stages."))


def default_pipeline() -> Pipeline:
    """The default pipeline; created (with its stages) when an installation has none."""
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    return pipeline or create_default_pipeline(Pipeline, Stage)


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return pipeline.stages.filter(kind=StageKind.OPEN).order_by("position", "id").first()


def _clean_currency(value: Any, errors: dict, field: str = "currency") -> str:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not CURRENCY.match(text):
        errors[field] = [_("A currency is a three-letter ISO 4217 code, such as CNY or USD.")]
    return text


def _clean_probability(value: Any, errors: dict) -> int | None:
    number = int_or_none(value) if value not in (0, "0") else 0
    if number is None or not 0 <= number <= 100 or isinstance(value, bool):
        errors["probability"] = [_("A probability is a whole number from 0 to 100.")]
        return None
    return number


def _pick(model, actor: User, value: Any, errors: dict, field: str, message: str):
    """A related record the actor may see, by id; an error under `field` otherwise."""
    pk = int_or_none(value)
    qs = model.objects.visible_to(actor) if hasattr(model.objects, "visible_to") else model.objects.all()
    obj = qs.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        errors[field] = [message]
    return obj


def _check_move(opp: Opportunity, stage: Stage, lost_reason: str, errors: dict) -> None:
    """The rules of a stage change, whatever asks for it (the board, the form, the API)."""
    if stage.pipeline_id != opp.pipeline_id:
        errors["stage_id"] = [_("This stage belongs to another pipeline.")]
        return
    if opp.pk and opp.is_closed and stage.pk != opp.stage_id:
        errors["stage_id"] = [_("This opportunity is closed (won or lost): reopen it before moving it.")]
        return
    if stage.kind == StageKind.LOST and not lost_reason:
        errors["lost_reason"] = [_("Say why the opportunity was lost before moving it to a lost stage.")]


def _enter_stage(opp: Opportunity, stage: Stage, probability: int | None) -> None:
    """Put the opportunity in `stage`: its status, probability (the stage's unless given) and closing time."""
    was_closed = opp.status != StageKind.OPEN if opp.pk else False
    opp.stage = stage
    opp.status = stage.kind
    opp.probability = stage.probability if probability is None else probability
    if stage.kind == StageKind.OPEN:
        opp.closed_at = None
        opp.lost_reason = ""
    elif not was_closed or opp.closed_at is None:
        opp.closed_at = timezone.now()


def _clean_opportunity(actor: User, data: dict, opp: Opportunity | None) -> dict[str, Any]:
    """Validated values; `stage` (and `probability`) only when the stage changes."""
    partial = opp is not None
    errors: dict[str, list[str]] = {}
    if isinstance(data.get("name"), str):
        data = {**data, "name": clean_text(data["name"])}
    for key in ("competitors", "lost_reason"):
        if isinstance(data.get(key), str):
            data = {**data, key: clean_text(data[key])}
    cleaned, errs = clean_fields(Opportunity, data, OPPORTUNITY_FIELDS, partial=partial)
    errors.update(errs)
    if "lost_reason" in data or not partial:
        lost, errs = clean_fields(Opportunity, data, ["lost_reason"], partial=False)
        errors.update(errs)
        cleaned.update(lost)
    if "account_id" in data or not partial:
        cleaned["account"] = _pick(Account, actor, data.get("account_id"), errors, "account_id",
                                   _("Choose an account you can see."))
    if data.get("contact_id") not in (None, ""):
        cleaned["contact"] = _pick(Contact, actor, data["contact_id"], errors, "contact_id", _("No such contact."))
    elif "contact_id" in data:
        cleaned["contact"] = None
    if data.get("probability") not in (None, ""):
        cleaned["probability"] = _clean_probability(data["probability"], errors)
    if data.get("currency") not in (None, ""):
        cleaned["currency"] = _clean_currency(data["currency"], errors)
    clean_owner_and_custom(actor, data, opp, "opportunity", cleaned, errors)

    # Pipeline and stage: the pipeline given (or kept, or the default), then a stage of it.
    pipeline = opp.pipeline if opp else None
    if data.get("pipeline_id") not in (None, ""):
        pipeline = _pick(Pipeline, actor, data["pipeline_id"], errors, "pipeline_id", _("No such pipeline."))
    elif pipeline is None:
        pipeline = default_pipeline()
    stage = None
    if pipeline is not None:
        if data.get("stage_id") not in (None, ""):
            stage = Stage.objects.filter(pk=int_or_none(data["stage_id"])).first()
            if stage is None:
                errors["stage_id"] = [_("No such stage.")]
            elif stage.pipeline_id != pipeline.pk:
                errors["stage_id"] = [_("This stage belongs to another pipeline.")]
                stage = None
        elif opp is None or pipeline.pk != opp.pipeline_id:
            stage = first_open_stage(pipeline)
            if stage is None:
                errors["stage_id"] = [_("This pipeline has no open stage.")]
    fail(errors)
    if stage is not None and (opp is None or stage.pk != opp.stage_id):
        probe = opp if opp is not None else Opportunity(pipeline=pipeline)
        if opp is not None and pipeline.pk != opp.pipeline_id:
            probe = Opportunity(pipeline=pipeline, status=opp.status, stage_id=opp.stage_id, pk=opp.pk)
        lost = cleaned.get("lost_reason", opp.lost_reason if opp else "")
        _check_move(probe, stage, lost, errors)
        fail(errors)
        cleaned["pipeline"] = pipeline
        cleaned["stage"] = stage
    if opp is None and "currency" not in cleaned:
        cleaned["currency"] = pipeline.currency
    if "currency" in cleaned and (opp is None or cleaned["currency"] != opp.currency):
        check_rate(cleaned["currency"], errors)
        fail(errors)
    return cleaned


def _apply(opp: Opportunity, cleaned: dict) -> None:
    stage = cleaned.pop("stage", None)
    probability = cleaned.pop("probability", None)
    for key, value in cleaned.items():
        if key == "owner":
            opp.set_owner(value)
        else:
            setattr(opp, key, value)
    if stage is not None:
        _enter_stage(opp, stage, probability)
    elif probability is not None:
        opp.probability = probability


@transaction.atomic
def create_opportunity(actor: User, data: dict[str, Any]) -> Opportunity:
    _require_editor(actor)
    cleaned = _clean_opportunity(actor, data, None)
    opp = Opportunity()
    _apply(opp, cleaned)
    opp.save()
    after = snapshot(opp, AUDITED)
    write_audit(opp, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    return opp


@transaction.atomic
def update_opportunity(actor: User, opp: Opportunity, data: dict[str, Any], version: Any) -> Opportunity:
    """Change the fields given. A stage change follows the board's rules (see `move_stage`)."""
    _require_editor(actor)
    current = Opportunity.objects.select_for_update().select_related("pipeline").get(pk=opp.pk)
    check_version(current, version, data)
    cleaned = _clean_opportunity(actor, data, current)
    before = snapshot(current, AUDITED)
    _apply(current, cleaned)
    current.version += 1
    current.save()
    write_audit(current, actor, AuditAction.UPDATE, diff(before, snapshot(current, AUDITED)))
    return current


@transaction.atomic
def move_stage(actor: User, opp: Opportunity, stage_id: Any, version: Any, lost_reason: str | None = None
               ) -> Opportunity:
    """The kanban drop: to a stage of the same pipeline; a lost stage needs a reason, a closed
    opportunity must be reopened first. Refused moves change nothing."""
    _require_editor(actor)
    current = Opportunity.objects.select_for_update().get(pk=opp.pk)
    check_version(current, version)
    errors: dict[str, list[str]] = {}
    stage = Stage.objects.filter(pk=int_or_none(stage_id)).first()
    if stage is None:
        fail({"stage_id": [_("No such stage.")]})
    reason = clean_text(lost_reason) if isinstance(lost_reason, str) else ""
    if len(reason) > 200:
        fail({"lost_reason": [_("At most 200 characters.")]})
    _check_move(current, stage, reason or current.lost_reason, errors)
    fail(errors)
    if stage.pk == current.stage_id:
        return current
    before = snapshot(current, AUDITED)
    if stage.kind == StageKind.LOST and reason:
        current.lost_reason = reason
    _enter_stage(current, stage, None)
    current.version += 1
    current.save()
    write_audit(current, actor, AuditAction.UPDATE, diff(before, snapshot(current, AUDITED)))
    return current


@transaction.atomic
def reopen(actor: User, opp: Opportunity, version: Any, stage_id: Any = None) -> Opportunity:
    """Back to an open stage (the first one unless given) after it was won or lost."""
    _require_editor(actor)
    current = Opportunity.objects.select_for_update().select_related("pipeline").get(pk=opp.pk)
    check_version(current, version)
    if not current.is_closed:
        fail({"stage_id": [_("This opportunity is open already.")]})
    if stage_id in (None, ""):
        stage = first_open_stage(current.pipeline)
    else:
        stage = current.pipeline.stages.filter(pk=int_or_none(stage_id), kind=StageKind.OPEN).first()
    if stage is None:
        fail({"stage_id": [_("Choose an open stage of this pipeline.")]})
    before = snapshot(current, AUDITED)
    _enter_stage(current, stage, None)
    current.version += 1
    current.save()
    write_audit(current, actor, AuditAction.UPDATE, diff(before, snapshot(current, AUDITED)))
    return current


@transaction.atomic
def delete_opportunity(actor: User, opp: Opportunity) -> None:
    _require_editor(actor)
    write_audit(opp, actor, AuditAction.DELETE, {"name": [opp.name, None], "account_id": [opp.account_id, None]})
    opp.delete()


# ---------------------------------------------------------------- pipelines and stages (administrators)

PIPELINE_FIELDS = ["name"]
STAGE_FIELDS = ["name"]


def _stage_list(pipeline: Pipeline) -> list[str]:
    return [f"{s.name} ({s.get_kind_display()}, {s.probability} %)" for s in pipeline.stages.order_by("position", "id")]


def _clean_stage(data: dict, stage: Stage | None, errors: dict, prefix: str = "") -> dict[str, Any]:
    if isinstance(data.get("name"), str):
        data = {**data, "name": clean_text(data["name"])}
    cleaned, errs = clean_fields(Stage, data, STAGE_FIELDS, partial=stage is not None)
    errors.update({prefix + k: v for k, v in errs.items()})
    if "probability" in data or stage is None:
        sub: dict[str, list[str]] = {}
        cleaned["probability"] = _clean_probability(data.get("probability", 0), sub)
        errors.update({prefix + k: v for k, v in sub.items()})
    if "kind" in data or stage is None:
        kind = data.get("kind") or StageKind.OPEN
        if kind not in StageKind.values:
            errors[prefix + "kind"] = [_("A stage is open, won or lost.")]
        cleaned["kind"] = kind
    return cleaned


def _clean_pipeline(data: dict, pipeline: Pipeline | None, errors: dict) -> dict[str, Any]:
    if isinstance(data.get("name"), str):
        data = {**data, "name": clean_text(data["name"])}
    cleaned, errs = clean_fields(Pipeline, data, PIPELINE_FIELDS, partial=pipeline is not None)
    errors.update(errs)
    if data.get("currency") not in (None, "") or pipeline is None:
        cleaned["currency"] = _clean_currency(data.get("currency") or "CNY", errors)
    if data.get("is_default") is not None:
        cleaned["is_default"] = bool(data["is_default"])
    return cleaned


def _make_default(pipeline: Pipeline) -> None:
    Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)


@transaction.atomic
def create_pipeline(actor: User, data: dict[str, Any]) -> Pipeline:
    """A pipeline with the stages given, or with the default stages (translated now)."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_pipeline(data, None, errors)
    stages_in = data.get("stages")
    stages: list[dict] = []
    if stages_in is not None:
        if not isinstance(stages_in, list):
            errors["stages"] = [_("Expected a list.")]
        else:
            for i, item in enumerate(stages_in):
                stages.append(_clean_stage(item if isinstance(item, dict) else {}, None, errors, f"stages.{i}."))
            if not errors and not any(s["kind"] == StageKind.OPEN for s in stages):
                errors["stages"] = [_("A pipeline needs at least one open stage.")]
    fail(errors)
    pipeline = Pipeline.objects.create(**cleaned)
    if stages_in is None:
        from .defaults import DEFAULT_STAGES

        stages = [{"name": _(n), "probability": p, "kind": k} for n, p, k in DEFAULT_STAGES]
    Stage.objects.bulk_create([Stage(pipeline=pipeline, position=i, **s) for i, s in enumerate(stages)])
    if pipeline.is_default or not Pipeline.objects.exclude(pk=pipeline.pk).exists():
        pipeline.is_default = True
        pipeline.save(update_fields=["is_default"])
        _make_default(pipeline)
    write_audit(pipeline, actor, AuditAction.CREATE, {"name": [None, pipeline.name],
                                                       "currency": [None, pipeline.currency],
                                                       "stages": [None, _stage_list(pipeline)]})
    return pipeline


@transaction.atomic
def update_pipeline(actor: User, pipeline: Pipeline, data: dict[str, Any]) -> Pipeline:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_pipeline(data, pipeline, errors)
    if cleaned.get("is_default") is False and pipeline.is_default:
        errors["is_default"] = [_("Make another pipeline the default instead.")]
    fail(errors)
    before = snapshot(pipeline, ["name", "currency", "is_default"])
    for key, value in cleaned.items():
        setattr(pipeline, key, value)
    pipeline.save()
    if pipeline.is_default:
        _make_default(pipeline)
    write_audit(pipeline, actor, AuditAction.UPDATE, diff(before, snapshot(pipeline, ["name", "currency",
                                                                                      "is_default"])))
    return pipeline


@transaction.atomic
def delete_pipeline(actor: User, pipeline: Pipeline) -> None:
    _require_admin(actor)
    if pipeline.opportunities.exists():
        fail({"__all__": [_("This pipeline holds opportunities: move or delete them first.")]})
    if pipeline.is_default:
        fail({"__all__": [_("Make another pipeline the default before deleting this one.")]})
    write_audit(pipeline, actor, AuditAction.DELETE, {"name": [pipeline.name, None]})
    pipeline.delete()


def _audit_stages(actor: User, pipeline: Pipeline, before: list[str]) -> None:
    after = _stage_list(pipeline)
    if after != before:
        write_audit(pipeline, actor, AuditAction.UPDATE, {"stages": [before, after]})


@transaction.atomic
def add_stage(actor: User, pipeline: Pipeline, data: dict[str, Any]) -> Stage:
    """A new stage, at the end unless a position is given (the others after it move down)."""
    _require_admin(actor)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_stage(data, None, errors)
    fail(errors)
    before = _stage_list(pipeline)
    stages = list(pipeline.stages.order_by("position", "id"))
    position = data.get("position")
    at = len(stages) if position in (None, "") else min(max(_position(position), 0), len(stages))
    stage = Stage(pipeline=pipeline, **cleaned)
    stages.insert(at, stage)
    stage.position = at
    stage.save()
    _renumber(stages)
    _audit_stages(actor, pipeline, before)
    return stage


def _position(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        fail({"position": [_("Enter a whole number.")]})
        return 0


def _renumber(stages: list[Stage]) -> None:
    for i, stage in enumerate(stages):
        stage.position = i
    Stage.objects.bulk_update(stages, ["position"])


@transaction.atomic
def update_stage(actor: User, stage: Stage, data: dict[str, Any]) -> Stage:
    """Rename, change the default probability, or the kind (only of a stage that holds no opportunities)."""
    _require_admin(actor)
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_stage(data, stage, errors)
    kind = cleaned.get("kind", stage.kind)
    if kind != stage.kind:
        if stage.opportunities.exists():
            errors["kind"] = [_("This stage holds opportunities: its kind cannot change.")]
        elif stage.kind == StageKind.OPEN and not stage.pipeline.stages.filter(kind=StageKind.OPEN).exclude(
                pk=stage.pk).exists():
            errors["kind"] = [_("A pipeline needs at least one open stage.")]
    fail(errors)
    before = _stage_list(stage.pipeline)
    for key, value in cleaned.items():
        setattr(stage, key, value)
    stage.save()
    _audit_stages(actor, stage.pipeline, before)
    return stage


@transaction.atomic
def reorder_stages(actor: User, pipeline: Pipeline, stage_ids: Any) -> list[Stage]:
    """Put the pipeline's stages in the order given (every stage of it, once)."""
    _require_admin(actor)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    stages = {s.pk: s for s in pipeline.stages.all()}
    ids = [int_or_none(i) for i in stage_ids] if isinstance(stage_ids, list) else None
    if ids is None or sorted(i or 0 for i in ids) != sorted(stages):
        fail({"stage_ids": [_("List every stage of this pipeline once.")]})
    before = _stage_list(pipeline)
    ordered = [stages[i] for i in ids]
    _renumber(ordered)
    _audit_stages(actor, pipeline, before)
    return ordered


@transaction.atomic
def delete_stage(actor: User, stage: Stage) -> None:
    """Refused while the stage holds opportunities, and for the pipeline's last open stage."""
    _require_admin(actor)
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    if stage.opportunities.exists():
        fail({"__all__": [_("The stage “%(name)s” holds opportunities: move them to another stage first.")
                          % {"name": stage.name}]})
    pipeline = stage.pipeline
    if stage.kind == StageKind.OPEN and not pipeline.stages.filter(kind=StageKind.OPEN).exclude(
            pk=stage.pk).exists():
        fail({"__all__": [_("A pipeline needs at least one open stage.")]})
    before = _stage_list(pipeline)
    stage.delete()
    _renumber(list(pipeline.stages.order_by("position", "id")))
    _audit_stages(actor, pipeline, before)
