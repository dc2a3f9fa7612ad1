"""REST resources for duplicates: the on-entry check, the review queue, merge, dismiss and undo."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from guanxi.core.api import CURSOR, ERRORS, LIMIT, WRITE_ONE, Id, actor, page_out, utc
from guanxi.core.paging import paginate

from . import services
from .models import DuplicatePair, Merge, PairStatus, RecordKind

router = Router()


class PossibleDuplicatesQuery(Schema):
    name: str = Field("", max_length=200)
    phone: list[str] = Field(default_factory=list, description="Repeat for several.")
    email: list[str] = Field(default_factory=list, description="Repeat for several.")
    account: list[str] = Field(default_factory=list, description="An account id or company name (contacts).")
    exclude: Id | None = Field(None, description="The record being edited, left out.")


class CandidateOut(Schema):
    id: int
    name: str
    score: float
    reasons: list[str]
    levels: dict[str, str]


class CandidateList(Schema):
    items: list[CandidateOut]


def _candidates(request: HttpRequest, kind: str, params: PossibleDuplicatesQuery) -> dict[str, Any]:
    found = services.possible_duplicates(actor(request), kind, name=params.name, phones=params.phone[:10],
                                         emails=params.email[:10], account=params.account[:5], exclude=params.exclude)
    return {"items": [{"id": c.record.pk, "name": c.record.name, "score": round(c.score, 4), "reasons": c.reasons,
                       "levels": c.levels} for c in found]}


@router.get("/contacts/possible-duplicates", response={200: CandidateList, **ERRORS}, tags=["duplicates"])
def contact_possible_duplicates(request: HttpRequest, params: Query[PossibleDuplicatesQuery]):
    """Up to 5 contacts you may see that the one being entered may duplicate (same phone, email, name in pinyin
    + company), best first."""
    return _candidates(request, RecordKind.CONTACT, params)


@router.get("/accounts/possible-duplicates", response={200: CandidateList, **ERRORS}, tags=["duplicates"])
def account_possible_duplicates(request: HttpRequest, params: Query[PossibleDuplicatesQuery]):
    """Up to 5 accounts you may see that the one being entered may duplicate."""
    return _candidates(request, RecordKind.ACCOUNT, params)


class PairOut(Schema):
    id: int
    kind: str
    record_1: int
    record_2: int
    score: float
    levels: dict[str, Any]
    status: str
    source: str
    found_at: dt.datetime
    resolved_at: dt.datetime | None


class PairPage(Schema):
    items: list[PairOut]
    next: str | None


class PairQuery(Schema):
    kind: str = Field(RecordKind.CONTACT, json_schema_extra={"enum": list(RecordKind.values)})
    status: str = Field(PairStatus.OPEN, json_schema_extra={"enum": list(PairStatus.values)})
    limit: int = LIMIT
    cursor: str | None = CURSOR


def pair_item(pair: DuplicatePair) -> dict[str, Any]:
    return {"id": pair.pk, "kind": pair.kind, "record_1": pair.record_1, "record_2": pair.record_2,
            "score": pair.score, "levels": pair.levels, "status": pair.status, "source": pair.source,
            "found_at": utc(pair.found_at), "resolved_at": utc(pair.resolved_at) if pair.resolved_at else None}


@router.get("/duplicates", response={200: PairPage, **ERRORS}, tags=["duplicates"])
def list_duplicates(request: HttpRequest, params: Query[PairQuery]):
    """The review queue: pairs whose two records you may see, best score first."""
    errors = {}
    if params.kind not in RecordKind.values:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(RecordKind.values)}]
    if params.status not in PairStatus.values:
        errors["status"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(PairStatus.values)}]
    if errors:
        raise ValidationError(errors)
    page = paginate(services.visible_pairs(actor(request), params.kind, params.status), sort="-score",
                    allowed=["-score"], cursor=params.cursor, limit=params.limit)
    return page_out([pair_item(p) for p in page.items], page.next_cursor)


def _pair(request: HttpRequest, id: int) -> DuplicatePair:
    try:
        return services.visible_pair(actor(request), id)
    except DuplicatePair.DoesNotExist:
        raise Http404


class MergeIn(Schema):
    survivor_id: Id
    survivor_version: int
    merged_version: int
    choices: dict[str, str] = Field(default_factory=dict,
                                    description='{field: "survivor" | "merged"}; default: the survivor\'s value '
                                                "unless it is empty. Custom fields as custom.<key>.")


class MergeOut(Schema):
    id: int
    kind: str
    survivor_id: int
    merged_id: int
    at: dt.datetime
    undone_at: dt.datetime | None
    relinked: int


def merge_item(merge: Merge) -> dict[str, Any]:
    return {"id": merge.pk, "kind": merge.kind, "survivor_id": merge.survivor_id, "merged_id": merge.merged_id,
            "at": utc(merge.at), "undone_at": utc(merge.undone_at) if merge.undone_at else None,
            "relinked": sum(len(e["ids"]) for e in merge.relinked)}


@router.post("/duplicates/{id}/merge", response={200: MergeOut, **WRITE_ONE}, tags=["duplicates"])
def merge_pair(request: HttpRequest, id: Id, payload: MergeIn):
    """Merge the pair: the other record goes into `survivor_id`, with the values chosen per field; 409 when
    either record changed since the versions given."""
    pair = _pair(request, id)
    if payload.survivor_id not in (pair.record_1, pair.record_2):
        raise ValidationError({"survivor_id": [_("Choose one of: %(choices)s.")
                                               % {"choices": f"{pair.record_1}, {pair.record_2}"}]})
    merged = pair.record_2 if payload.survivor_id == pair.record_1 else pair.record_1
    try:
        merge = services.merge_records(actor(request), pair.kind, payload.survivor_id, merged,
                                       choices=payload.choices, survivor_version=payload.survivor_version,
                                       merged_version=payload.merged_version)
    except services.MODELS[pair.kind].DoesNotExist:
        raise Http404
    return merge_item(merge)


@router.post("/duplicates/{id}/dismiss", response={200: PairOut, **WRITE_ONE}, tags=["duplicates"])
def dismiss_pair(request: HttpRequest, id: Id):
    """Not duplicates: the pair stays dismissed, also when a later scan finds it again."""
    return pair_item(services.dismiss_pair(actor(request), _pair(request, id)))


@router.post("/merges/{id}/undo", response={200: MergeOut, **WRITE_ONE}, tags=["duplicates"])
def undo_merge(request: HttpRequest, id: Id):
    """Undo a merge: the merged record comes back with its id and values; refused (400) when the record kept
    was changed since."""
    try:
        merge = services.merge_for(actor(request), id)
    except Merge.DoesNotExist:
        raise Http404
    services.undo_merge(actor(request), merge)
    merge.refresh_from_db()
    return merge_item(merge)

