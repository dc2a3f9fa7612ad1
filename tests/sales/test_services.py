"""Opportunity use cases: creating, moving on the board (allowed and refused), reopening, deleting, and the
administration of pipelines and stages; every change audited, every refusal leaving everything as it was."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.models import AuditEntry
from guanxi.core.records import EditConflict, audit_trail
from guanxi.customers.timeline import timeline_for
from guanxi.sales import services
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageKind

pytestmark = pytest.mark.django_db


def _row(opp):
    return Opportunity.objects.filter(pk=opp.pk).values().get()


def test_create_takes_the_pipeline_default_stage_probability_and_currency(deal, stages, users):
    assert deal.stage == stages["open"][0]
    assert deal.probability == stages["open"][0].probability
    assert deal.currency == "CNY"
    assert deal.status == StageKind.OPEN and deal.closed_at is None
    assert deal.owner == users["rep_a"] and deal.team == users["rep_a"].team
    assert deal.amount == Decimal("120000.00")
    entry = audit_trail(deal).get()
    assert entry.action == "create" and entry.changes["amount"] == [None, "120000.00"]


def test_create_refuses_bad_input_naming_the_fields(users, zhang):
    account, _contact = zhang
    with pytest.raises(ValidationError) as exc:
        services.create_opportunity(users["rep_a"], {"name": "", "account_id": account.pk, "amount": "-5",
                                                     "probability": 140, "currency": "yuan"})
    assert set(exc.value.message_dict) == {"name", "amount", "probability", "currency"}
    with pytest.raises(ValidationError) as exc:
        services.create_opportunity(users["rep_a"], {"name": "x"})
    assert set(exc.value.message_dict) == {"account_id"}
    assert not Opportunity.objects.exists()


def test_an_account_the_rep_cannot_see_is_refused(users, account_b):
    with pytest.raises(ValidationError) as exc:
        services.create_opportunity(users["rep_a"], {"name": "x", "account_id": account_b.pk})
    assert "account_id" in exc.value.message_dict


def test_move_to_another_open_stage(deal, stages, users):
    target = stages["open"][2]
    moved = services.move_stage(users["rep_a"], deal, target.pk, deal.version)
    assert moved.stage == target and moved.probability == target.probability and moved.version == 2
    change = audit_trail(deal).first().changes
    assert change["stage_id"] == [stages["open"][0].pk, target.pk]
    assert change["probability"] == [stages["open"][0].probability, target.probability]


def test_move_to_won_closes_it(deal, stages, users):
    moved = services.move_stage(users["rep_a"], deal, stages["won"].pk, deal.version)
    assert moved.status == StageKind.WON and moved.closed_at is not None and moved.probability == 100


def test_lost_needs_a_reason_and_nothing_changes_without_one(deal, stages, users):
    before = _row(deal)
    with pytest.raises(ValidationError) as exc:
        services.move_stage(users["rep_a"], deal, stages["lost"].pk, deal.version)
    assert list(exc.value.message_dict) == ["lost_reason"]
    assert _row(deal) == before
    assert audit_trail(deal).count() == 1
    moved = services.move_stage(users["rep_a"], deal, stages["lost"].pk, deal.version, lost_reason="价格太高")
    assert moved.status == StageKind.LOST and moved.lost_reason == "价格太高" and moved.closed_at is not None


def test_a_closed_opportunity_must_be_reopened_before_moving(deal, stages, users):
    won = services.move_stage(users["rep_a"], deal, stages["won"].pk, deal.version)
    before = _row(won)
    with pytest.raises(ValidationError) as exc:
        services.move_stage(users["rep_a"], won, stages["open"][1].pk, won.version)
    assert any(w in exc.value.message_dict["stage_id"][0] for w in ("reopen", "重新打开"))
    assert _row(won) == before
    reopened = services.reopen(users["rep_a"], won, won.version)
    assert reopened.status == StageKind.OPEN and reopened.closed_at is None
    assert reopened.stage == stages["open"][0]


def test_a_stage_of_another_pipeline_is_refused(deal, users):
    other = services.create_pipeline(users["admin"], {"name": "渠道销售"})
    before = _row(deal)
    with pytest.raises(ValidationError) as exc:
        services.move_stage(users["rep_a"], deal, other.stages.first().pk, deal.version)
    assert any(w in exc.value.message_dict["stage_id"][0] for w in ("another pipeline", "另一个销售管道"))
    assert _row(deal) == before


def test_a_stale_version_is_an_edit_conflict(deal, stages, users):
    services.move_stage(users["rep_a"], deal, stages["open"][1].pk, deal.version)
    with pytest.raises(EditConflict):
        services.move_stage(users["rep_a"], deal, stages["open"][2].pk, 1)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["open"][1]


def test_update_changes_fields_and_keeps_the_move_rules(deal, stages, users):
    updated = services.update_opportunity(users["rep_a"], deal, {"amount": "150000", "probability": 30,
                                                                 "competitors": "GE, 西门子"}, 1)
    assert updated.amount == Decimal("150000") and updated.probability == 30 and updated.version == 2
    with pytest.raises(ValidationError) as exc:
        services.update_opportunity(users["rep_a"], updated, {"stage_id": stages["lost"].pk}, 2)
    assert "lost_reason" in exc.value.message_dict
    lost = services.update_opportunity(users["rep_a"], updated, {"stage_id": stages["lost"].pk,
                                                                 "lost_reason": "预算取消"}, 2)
    assert lost.status == StageKind.LOST


def test_moving_to_another_pipeline_lands_in_its_first_open_stage(deal, users):
    other = services.create_pipeline(users["admin"], {"name": "渠道销售", "currency": "usd"})
    moved = services.update_opportunity(users["rep_a"], deal, {"pipeline_id": other.pk}, 1)
    assert moved.pipeline == other and moved.stage == services.first_open_stage(other)
    assert other.currency == "USD"


def test_read_only_users_cannot_change_opportunities(deal, stages, users):
    with pytest.raises(PermissionDenied):
        services.move_stage(users["viewer"], deal, stages["open"][1].pk, 1)


def test_opportunity_events_appear_on_the_accounts_timeline(deal, stages, users, zhang):
    account, _contact = zhang
    services.move_stage(users["rep_a"], deal, stages["won"].pk, 1)
    items = [i for i in timeline_for(account, users["rep_a"]) if i.kind == "opportunity"]
    assert len(items) == 2
    assert "CT 设备采购" in items[0].title and stages["won"].name in items[0].body
    # Someone who may see the account but not the opportunity does not see its events.
    assert [i for i in timeline_for(account, users["rep_b"]) if i.kind == "opportunity"] == []


def test_delete_is_audited(deal, users):
    pk = deal.pk
    services.delete_opportunity(users["rep_a"], deal)
    assert not Opportunity.objects.exists()
    entry = AuditEntry.objects.filter(object_id=pk, object_repr="CT 设备采购").first()
    assert entry.action == "delete"


# ---------------------------------------------------------------- pipelines and stages


def test_only_administrators_manage_pipelines(users, pipeline):
    with pytest.raises(PermissionDenied):
        services.create_pipeline(users["manager_a"], {"name": "x"})
    with pytest.raises(PermissionDenied):
        services.add_stage(users["rep_a"], pipeline, {"name": "x"})


def test_stage_administration_is_audited(users, pipeline):
    admin = users["admin"]
    stage = services.add_stage(admin, pipeline, {"name": "样品测试", "probability": 40, "position": 2})
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True))[2] == stage.pk
    services.update_stage(admin, stage, {"name": "样品试用", "probability": 45})
    ids = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    services.reorder_stages(admin, pipeline, list(reversed(ids)))
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True)) == list(reversed(ids))
    entries = list(audit_trail(pipeline))
    assert len(entries) == 3 and all("stages" in e.changes for e in entries)
    assert any("样品试用 (" in s for s in entries[1].changes["stages"][1])
    with pytest.raises(ValidationError):
        services.reorder_stages(admin, pipeline, ids[:-1])


def test_a_stage_holding_opportunities_cannot_be_deleted(deal, stages, users):
    count = Stage.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.delete_stage(users["admin"], stages["open"][0])
    assert any(w in exc.value.messages[0] for w in ("holds opportunities", "还有商机"))
    with pytest.raises(ValidationError):
        services.update_stage(users["admin"], stages["open"][0], {"kind": "won"})
    assert Stage.objects.count() == count
    services.delete_stage(users["admin"], stages["open"][3])
    assert Stage.objects.count() == count - 1
    assert list(deal.pipeline.stages.values_list("position", flat=True).order_by("position")) == list(
        range(count - 1))


def test_pipeline_validation_and_default(users, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.create_pipeline(users["admin"], {"name": "x", "stages": [{"name": "赢", "kind": "won"}]})
    assert "stages" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_pipeline(users["admin"], {"name": "", "currency": "元", "stages": [{"name": "", "kind": "x"}]})
    assert {"name", "currency", "stages.0.name", "stages.0.kind"} <= set(exc.value.message_dict)
    second = services.create_pipeline(users["admin"], {"name": "大客户", "is_default": True,
                                                       "stages": [{"name": "初访", "probability": 20}]})
    assert Pipeline.objects.get(is_default=True) == second
    with pytest.raises(ValidationError):
        services.delete_pipeline(users["admin"], second)
