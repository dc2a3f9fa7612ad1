"""The NPS API: list surveys, send one (service managers and administrators; 400 naming the fields), read a survey's
results and its answers in keyset pages — figures and answers over the contacts the caller may see."""

import datetime as dt

import pytest

from guanxi.core.services import issue_token
from guanxi.service.nps_models import NpsInvitation, NpsSurvey
from tests.api.conftest import ApiClient

from .nps_fixtures import plant

AT = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def api(users, desk):
    return {name: ApiClient(issue_token(user)) for name, user in {**users, "lead": desk["lead"]}.items()}


def test_send_a_survey_and_read_its_results_and_answers(api, users, nps_book, settings, tasks_now,
                                                        django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        created = api["admin"].post("nps-surveys", {"name": "重点客户调查", "classification": "A", "language": "en"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["classification"], body["language"], body["invited"], body["skipped"]) == (
        "重点客户调查", "A", "en", 1, 3)
    assert body["created_by"]["id"] == users["admin"].pk and body["figures"]["nps"] is None
    survey = NpsSurvey.objects.get(pk=body["id"])
    assert NpsInvitation.objects.get(survey=survey, skip_reason="").sent_at is not None

    results = api["admin"].get(f"nps-surveys/{survey.pk}").json()
    assert {k: results[k] for k in ("responses", "nps", "invited", "sent", "pending", "failed", "skipped")} == {
        "responses": 0, "nps": None, "invited": 1, "sent": 1, "pending": 0, "failed": 0, "skipped": 3}
    assert results["skipped_by_reason"] == {"no_consent": 1, "no_email": 1, "undeliverable": 1, "recent": 0}

    survey = NpsSurvey.objects.create(name="年度调查", language="zh-hans", created_by=users["admin"])
    for who, score, minutes in (("wang", 9, 1), ("liu", 6, 2), ("chen", 10, 3), ("li", 2, 4)):
        plant(survey, nps_book[who], score, AT + dt.timedelta(minutes=minutes), reason=f"{who} 的理由")
    results = api["admin"].get(f"nps-surveys/{survey.pk}").json()
    assert {k: results[k] for k in ("responses", "promoters", "passives", "detractors", "nps", "sent",
                                    "response_rate")} == {
        "responses": 4, "promoters": 2, "passives": 0, "detractors": 2, "nps": "0.0", "sent": 4,
        "response_rate": "100.0"}
    assert (results["promoter_share"], results["detractor_share"]) == ("50.0", "50.0")
    mine = api["rep_a"].get(f"nps-surveys/{survey.pk}").json()
    assert (mine["responses"], mine["nps"], mine["survey"]["figures"]["responses"]) == (3, "33.3", 3)

    first = api["admin"].get(f"nps-surveys/{survey.pk}/answers", {"limit": 3}).json()
    assert [a["contact"]["name"] for a in first["items"]] == ["李娜", "陈静", "刘洋"] and first["next"]
    second = api["admin"].get(f"nps-surveys/{survey.pk}/answers", {"limit": 3, "cursor": first["next"]}).json()
    assert [a["contact"]["name"] for a in second["items"]] == ["王芳"] and second["next"] is None
    li = first["items"][0]
    assert (li["score"], li["category"], li["reason"], li["account"]["name"]) == (2, "detractor", "li 的理由",
                                                                                   "广州海风贸易有限公司")
    assert li["follow_up_task_id"] is not None
    detractors = api["rep_b"].get(f"nps-surveys/{survey.pk}/answers", {"category": "detractor"}).json()
    assert [a["contact"]["name"] for a in detractors["items"]] == ["李娜"]  # rep_b sees only their contact
    by_score = api["admin"].get(f"nps-surveys/{survey.pk}/answers", {"sort": "-score"}).json()
    assert [a["score"] for a in by_score["items"]] == [10, 9, 6, 2]

    listed = api["rep_a"].get("nps-surveys").json()
    assert [s["name"] for s in listed["items"]] == ["年度调查", "重点客户调查"]
    assert listed["items"][0]["figures"]["nps"] == "33.3" and listed["items"][1]["invited"] == 1


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": "调查", "classification": "Z"}, {"classification"}),
    ({"name": "调查", "account_owner_id": 999999}, {"account_owner_id"}),
    ({"name": "调查", "account_owner_id": "abc"}, {"account_owner_id"}),
    ({"name": "调查", "language": "fr"}, {"language"}),
    ({"name": 5}, {"name"}),
])
def test_bad_input_is_a_400_naming_the_fields(api, nps_book, body, fields):
    response = api["admin"].post("nps-surveys", body)
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == fields
    assert not NpsSurvey.objects.exists()


def test_who_may_send_and_what_is_not_found(api, nps_book):
    assert api["rep_a"].post("nps-surveys", {"name": "调查"}).status_code == 403
    assert api["viewer"].post("nps-surveys", {"name": "调查"}).status_code == 403
    refused = api["lead"].post("nps-surveys", {"name": "调查"})  # a service manager who sees no contact
    assert refused.status_code == 400 and "recipients" in refused.json()["errors"]
    for path in ("nps-surveys/99", "nps-surveys/99/answers"):
        assert api["admin"].get(path).status_code == 404
    survey = NpsSurvey.objects.create(name="调查", language="en")
    for params, field in (({"category": "happy"}, "category"), ({"sort": "name"}, "sort"),
                          ({"cursor": "garbage"}, "cursor"), ({"limit": 0}, "limit")):
        bad = api["admin"].get(f"nps-surveys/{survey.pk}/answers", params)
        assert bad.status_code == 400 and field in bad.json()["errors"], (params, bad.content)
    assert api["admin"].get("nps-surveys", {"sort": "name"}).status_code == 400
    assert ApiClient(None).get("nps-surveys").status_code == 401
