"""Pipeline and stage administration pages: administrators only (a rep gets 403 and changes nothing), field
errors next to their inputs with a 400, refusals (a stage holding opportunities, the last open stage, the
default pipeline) say why and change nothing."""

import pytest

from guanxi.core.models import AuditEntry
from guanxi.sales.models import Pipeline, Stage, StageKind

pytestmark = pytest.mark.django_db


def _stages(pipeline):
    return list(pipeline.stages.order_by("position", "id").values_list("name", "probability", "kind"))


def _admin(client, users):
    client.force_login(users["admin"])
    return client


def test_a_rep_or_a_manager_gets_403_everywhere_and_changes_nothing(client, users, pipeline, stages):
    first = stages["open"][0]
    before = _stages(pipeline)
    base = f"/settings/pipelines/{pipeline.pk}"
    for who in ("rep_a", "manager_a"):
        client.force_login(users[who])
        assert client.get("/settings/pipelines/").status_code == 403
        assert client.get("/settings/pipelines/new/").status_code == 403
        assert client.post("/settings/pipelines/new/", {"name": "X", "currency": "CNY"}).status_code == 403
        assert client.get(f"{base}/").status_code == 403
        assert client.post(f"{base}/", {"name": "改名", "currency": "CNY"}).status_code == 403
        assert client.post(f"{base}/stages/", {"new-name": "新阶段", "new-probability": "5",
                                               "new-kind": "open"}).status_code == 403
        assert client.post(f"{base}/stages/{first.pk}/", {f"stage-{first.pk}-name": "改",
                                                          f"stage-{first.pk}-probability": "5",
                                                          f"stage-{first.pk}-kind": "open"}).status_code == 403
        assert client.post(f"{base}/stages/{first.pk}/move/", {"direction": "down"}).status_code == 403
        assert client.post(f"{base}/stages/{first.pk}/delete/").status_code == 403
        assert "nav-pipelines" not in client.get("/").content.decode()
    pipeline.refresh_from_db()
    assert _stages(pipeline) == before and pipeline.name != "改名"
    assert Pipeline.objects.count() == 1


def test_list_shows_pipelines_with_stages_and_counts_in_constant_queries(client, users, pipeline, deal,
                                                                          django_assert_max_num_queries):
    _admin(client, users)
    assert 'id="nav-pipelines"' in client.get("/").content.decode()
    with django_assert_max_num_queries(12) as few:
        page = client.get("/settings/pipelines/").content.decode()
    queries = len(few.captured_queries)  # now: the next request empties the log
    assert pipeline.name in page
    assert all(name in page for name, _p, _k in _stages(pipeline))
    for i in range(3):
        client.post("/settings/pipelines/new/", {"name": f"渠道 {i}", "currency": "USD"})
    with django_assert_max_num_queries(queries):
        page = client.get("/settings/pipelines/").content.decode()
    assert "渠道 2" in page
    row = page.split(f'data-pipeline="{pipeline.pk}"')[1].split("</tr>")[0]
    assert ">1</td>" in row  # the deal


def test_create_a_pipeline_with_the_default_stages_and_field_errors(client, users, pipeline):
    _admin(client, users)
    bad = client.post("/settings/pipelines/new/", {"name": "  ", "currency": "yuan"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_name-errors"' in html and 'id="id_currency-errors"' in html
    assert Pipeline.objects.count() == 1
    ok = client.post("/settings/pipelines/new/", {"name": "<b>大客户</b>", "currency": "usd"})
    created = Pipeline.objects.get(name="<b>大客户</b>")
    assert ok.status_code == 302 and ok["Location"] == f"/settings/pipelines/{created.pk}/"
    assert created.currency == "USD" and not created.is_default
    assert len(_stages(created)) == len(_stages(pipeline))
    page = client.get(f"/settings/pipelines/{created.pk}/").content.decode()
    assert "&lt;b&gt;大客户&lt;/b&gt;" in page and "<b>大客户</b>" not in page


def test_rename_and_make_default(client, users, pipeline):
    _admin(client, users)
    other = Pipeline.objects.create(name="项目型销售", currency="CNY")
    bad = client.post(f"/settings/pipelines/{other.pk}/", {"name": "", "currency": "CNY"})
    assert bad.status_code == 400 and 'id="id_name-errors"' in bad.content.decode()
    other.refresh_from_db()
    assert other.name == "项目型销售"
    assert client.post(f"/settings/pipelines/{other.pk}/", {"name": "项目制", "currency": "EUR"}).status_code == 302
    other.refresh_from_db()
    assert (other.name, other.currency) == ("项目制", "EUR")
    assert client.post(f"/settings/pipelines/{other.pk}/default/").status_code == 302
    other.refresh_from_db()
    pipeline.refresh_from_db()
    assert other.is_default and not pipeline.is_default
    assert AuditEntry.objects.filter(object_id=other.pk, action="update").count() == 2  # rename, default


def test_the_default_pipeline_or_one_holding_opportunities_is_not_deleted(client, users, pipeline, deal):
    _admin(client, users)
    response = client.post(f"/settings/pipelines/{pipeline.pk}/delete/", follow=True)
    assert "alert-danger" in response.content.decode()
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()
    spare = Pipeline.objects.create(name="备用", currency="CNY")
    assert client.post(f"/settings/pipelines/{spare.pk}/delete/").status_code == 302
    assert not Pipeline.objects.filter(pk=spare.pk).exists()


def test_add_edit_and_move_stages(client, users, pipeline, stages):
    _admin(client, users)
    url = f"/settings/pipelines/{pipeline.pk}"
    bad = client.post(f"{url}/stages/", {"new-name": "", "new-probability": "150", "new-kind": "open"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_new-name-errors"' in html and 'id="id_new-probability-errors"' in html
    count = pipeline.stages.count()
    assert count == 6
    assert client.post(f"{url}/stages/", {"new-name": "演示", "new-probability": "40",
                                          "new-kind": "open"}).status_code == 302
    added = Stage.objects.get(pipeline=pipeline, name="演示")
    assert (added.probability, added.kind, added.position) == (40, "open", count)

    first = stages["open"][0]
    p = f"stage-{first.pk}-"
    bad = client.post(f"{url}/stages/{first.pk}/", {p + "name": "初步接触", p + "probability": "x", p + "kind": "open"})
    assert bad.status_code == 400 and f'id="id_{p}probability-errors"' in bad.content.decode()
    first.refresh_from_db()
    assert first.name != "初步接触"
    assert client.post(f"{url}/stages/{first.pk}/", {p + "name": "初步接触", p + "probability": "15",
                                                     p + "kind": "open"}).status_code == 302
    first.refresh_from_db()
    assert (first.name, first.probability) == ("初步接触", 15)

    order = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    client.post(f"{url}/stages/{first.pk}/move/", {"direction": "down"})
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True)) == [order[1], order[0]] + order[2:]
    client.post(f"{url}/stages/{added.pk}/move/", {"direction": "up"})
    moved = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    assert moved[-2:] == [added.pk, order[-2]]
    client.post(f"{url}/stages/{added.pk}/move/", {"direction": "down"})
    client.post(f"{url}/stages/{added.pk}/move/", {"direction": "down"})  # already last: nothing
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True))[-1] == added.pk
    page = client.get(f"{url}/").content.decode()
    shown = [int(part.split('"')[0]) for part in page.split('data-stage="')[1:]]
    assert shown == list(pipeline.stages.order_by("position").values_list("pk", flat=True))


def test_a_stage_holding_opportunities_is_not_deleted_nor_changes_kind(client, users, pipeline, stages, deal):
    _admin(client, users)
    url = f"/settings/pipelines/{pipeline.pk}"
    held = stages["open"][0]
    before = _stages(pipeline)
    response = client.post(f"{url}/stages/{held.pk}/delete/", follow=True)
    assert f"“{held.name}”" in response.content.decode() and "alert-danger" in response.content.decode()
    p = f"stage-{held.pk}-"
    refused = client.post(f"{url}/stages/{held.pk}/", {p + "name": held.name, p + "probability": "10",
                                                       p + "kind": "lost"})
    assert refused.status_code == 400 and f'id="id_{p}kind-errors"' in refused.content.decode()
    assert _stages(pipeline) == before

    empty = stages["open"][1]
    assert client.post(f"{url}/stages/{empty.pk}/delete/").status_code == 302
    assert not Stage.objects.filter(pk=empty.pk).exists()
    positions = list(pipeline.stages.order_by("position").values_list("position", flat=True))
    assert positions == list(range(len(positions)))


def test_the_last_open_stage_is_not_deleted(client, users):
    _admin(client, users)
    lone = Pipeline.objects.create(name="单阶段", currency="CNY")
    only = Stage.objects.create(pipeline=lone, name="进行中", kind=StageKind.OPEN, probability=50, position=0)
    Stage.objects.create(pipeline=lone, name="赢单", kind=StageKind.WON, probability=100, position=1)
    response = client.post(f"/settings/pipelines/{lone.pk}/stages/{only.pk}/delete/", follow=True)
    assert "alert-danger" in response.content.decode()
    assert Stage.objects.filter(pk=only.pk).exists()


def test_a_stage_of_another_pipeline_is_a_404(client, users, pipeline, stages):
    _admin(client, users)
    other = Pipeline.objects.create(name="其他", currency="CNY")
    stage = stages["open"][0]
    assert client.post(f"/settings/pipelines/{other.pk}/stages/{stage.pk}/delete/").status_code == 404
    assert Stage.objects.filter(pk=stage.pk).exists()
