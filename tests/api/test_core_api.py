"""Authentication, users, teams, tags, custom fields, jobs and the OpenAPI document of /api/v1/."""

import json
import uuid

import pytest
from django.test import Client
from django.utils.crypto import get_random_string

from guanxi.core.models import AuditEntry, CustomField, JobProgress
from guanxi.customers import services

from .conftest import ApiClient

# ------------------------------------------------------------------ authentication


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer gx_not-a-token"}, {"Authorization": "Bearer"},
                                     {"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "Bearer \u00e9"}])
def test_missing_or_bad_credentials_are_401_json(users, headers):
    for method, path in (("get", "accounts"), ("post", "accounts"), ("get", "users/me")):
        r = getattr(Client(), method)(f"/api/v1/{path}", headers=headers)
        assert r.status_code == 401, (method, path)
        assert r["Content-Type"].startswith("application/json") and r.json()["detail"]


def test_a_deactivated_users_token_stops_working(api, users):
    users["rep_a"].is_active = False
    users["rep_a"].save()
    assert api["rep_a"].get("users/me").status_code == 401


def test_session_auth_needs_the_csrf_token_for_writes(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["rep_a"])
    assert client.get("/api/v1/users/me").json()["username"] == "rep_a"
    body = json.dumps({"name": "会话公司"})
    r = client.post("/api/v1/accounts", body, content_type="application/json")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    r = client.post("/api/v1/accounts", body, content_type="application/json", headers={"X-CSRFToken": token})
    assert r.status_code == 201, r.json()


# ------------------------------------------------------------------ users, teams, tags


def test_me(api, users):
    me = api["manager_a"].get("users/me").json()
    assert me["username"] == "manager_a" and me["role"] == "sales_manager"
    assert me["team"]["name"] == "华北销售" and me["can_edit"] is True and me["is_administrator"] is False
    assert api["viewer"].get("users/me").json()["can_edit"] is False


def test_users_lists_only_visible_colleagues(api, users):
    names = [u["username"] for u in api["rep_a"].get("users").json()["items"]]
    assert names == ["manager_a", "rep_a", "rep_a2", "viewer"]
    assert "rep_b" not in names
    everyone = api["admin"].get("users", {"limit": 2})
    assert len(everyone.json()["items"]) == 2 and everyone.json()["next"]
    rest = api["admin"].get("users", {"limit": 10, "cursor": everyone.json()["next"]}).json()
    assert len(rest["items"]) == 4 and rest["next"] is None


def test_teams_and_tags(api, users):
    teams = api["rep_a"].get("teams").json()["items"]
    assert [t["name"] for t in teams][0] == "公司"
    assert {t["name"] for t in teams} == {"公司", "华北销售", "华南销售"}
    services.create_account(users["rep_a"], {"name": "x", "tags": ["重点", "VIP"]})
    assert [t["name"] for t in api["rep_b"].get("tags").json()["items"]] == ["VIP", "重点"]


# ------------------------------------------------------------------ custom fields


def test_custom_fields_are_listed_for_everyone_and_managed_by_admins(api, users):
    admin, rep = api["admin"], api["rep_a"]
    body = {"model": "account", "key": "spend", "label_zh": "年采购额", "field_type": "money"}
    assert rep.post("custom-fields", body).status_code == 403
    r = admin.post("custom-fields", body)
    assert r.status_code == 201, r.json()
    field = r.json()
    assert (field["label_zh"], field["label_en"], field["currency"], field["active"]) == (
        "年采购额", "年采购额", "CNY", True)
    assert AuditEntry.objects.filter(action="create", object_id=field["id"]).exists()

    # Now records accept it, and lists filter by it.
    assert rep.post("accounts", {"name": "甲", "custom": {"spend": "2000"}}).status_code == 201
    assert [a["name"] for a in rep.get("accounts", {"custom.spend__gte": "1000"}).json()["items"]] == ["甲"]

    assert [f["key"] for f in rep.get("custom-fields", {"model": "account"}).json()["items"]] == ["spend"]
    assert rep.get("custom-fields", {"model": "contact"}).json()["items"] == []

    r = admin.patch(f"custom-fields/{field['id']}", {"label_en": "Annual spend", "show_in_list": True})
    assert r.status_code == 200 and r.json()["label_en"] == "Annual spend" and r.json()["show_in_list"] is True
    assert rep.patch(f"custom-fields/{field['id']}", {"label_en": "x"}).status_code == 403
    r = admin.patch(f"custom-fields/{field['id']}", {"choices": ["a"]})
    assert r.status_code == 400 and "choices" in r.json()["errors"]

    assert rep.delete(f"custom-fields/{field['id']}").status_code == 403
    assert admin.delete(f"custom-fields/{field['id']}").status_code == 204
    assert CustomField.objects.get(pk=field["id"]).active is False
    assert rep.get("custom-fields").json()["items"] == []
    assert len(admin.get("custom-fields", {"include_inactive": "true"}).json()["items"]) == 1
    assert admin.delete("custom-fields/999999").status_code == 404


@pytest.mark.parametrize("body, fields", [
    ({"model": "opportunity", "key": "x", "label_zh": "x", "field_type": "text"}, {"model"}),
    ({"model": "account", "key": "Bad Key", "label_zh": "x", "field_type": "text"}, {"key"}),
    ({"model": "account", "key": "a__b", "label_zh": "x", "field_type": "text"}, {"key"}),
    ({"model": "account", "key": "ok", "label_zh": "x", "field_type": "colour"}, {"field_type"}),
    ({"model": "account", "key": "ok", "label_zh": "x", "field_type": "choice"}, {"choices"}),
    ({"model": "account", "key": "ok", "label_zh": "x", "field_type": "choice", "choices": ["a", "a"]}, {"choices"}),
    ({"model": "account", "key": "ok", "field_type": "text"}, {"label_zh"}),
    ({"model": "account", "key": "ok", "label_zh": "x", "field_type": "money", "currency": "yuan"}, {"currency"}),
    ({"model": "account", "key": "taken", "label_zh": "x", "field_type": "text"}, {"key"}),
    ({"model": "account", "label_zh": "x", "field_type": "text"}, {"key"}),
    ({"model": "account", "key": "ok", "label_zh": "x", "field_type": "text", "position": -1}, {"position"}),
])
def test_custom_field_validation_names_the_field(api, body, fields):
    CustomField.objects.create(model="account", key="taken", label_zh="已有", label_en="Taken", field_type="text")
    r = api["admin"].post("custom-fields", body)
    assert r.status_code == 400, r.json()
    assert set(r.json()["errors"]) == fields
    assert CustomField.objects.count() == 1


def test_choice_fields_keep_their_choices(api):
    r = api["admin"].post("custom-fields", {"model": "contact", "key": "channel", "label_en": "Channel",
                                            "field_type": "multi_choice", "choices": ["wechat", "web"]})
    assert r.status_code == 201 and r.json()["choices"] == ["wechat", "web"] and r.json()["label_zh"] == "Channel"
    r = api["admin"].patch(f"custom-fields/{r.json()['id']}", {"choices": ["wechat", "web", "expo"],
                                                                "field_type": "text"})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"field_type"}


# ------------------------------------------------------------------ jobs


def test_jobs_are_visible_to_their_owner_only(api, users):
    job = JobProgress.objects.create(kind="import", label="contacts.csv", user=users["rep_a"], total=4, done=1)
    r = api["rep_a"].get(f"jobs/{job.pk}")
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["percent"], r.json()["id"]) == ("queued", 25, str(job.pk))
    assert api["rep_b"].get(f"jobs/{job.pk}").status_code == 404
    assert api["admin"].get(f"jobs/{uuid.uuid4()}").status_code == 404
    assert api["rep_a"].get("jobs/not-a-uuid").status_code == 400


# ------------------------------------------------------------------ the schema


def test_openapi_document_and_docs(db):
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Guanxi API"
    paths = schema["paths"]
    for path in ("/api/v1/accounts", "/api/v1/accounts/{id}", "/api/v1/contacts/{id}/timeline",
                 "/api/v1/accounts/{id}/audit", "/api/v1/contacts/{id}/notes", "/api/v1/search", "/api/v1/tags",
                 "/api/v1/custom-fields", "/api/v1/users/me", "/api/v1/users", "/api/v1/teams",
                 "/api/v1/accounts/bulk-assign", "/api/v1/contacts/bulk-tag", "/api/v1/jobs/{id}"):
        assert path in paths, path
    assert set(paths["/api/v1/accounts/{id}"]["patch"]["responses"]) == {"200", "202", "400", "401", "403", "404",
                                                                       "409"}
    assert set(paths["/api/v1/accounts"]["post"]["responses"]) == {"201", "400", "401", "403"}
    assert "204" in paths["/api/v1/contacts/{id}"]["delete"]["responses"]
    assert not any("422" in op["responses"] for item in paths.values() for op in item.values())
    assert Client().get("/api/v1/docs").status_code == 200


def test_unauthenticated_client_helper_is_401(db):
    assert ApiClient(None).get("tags").status_code == 401


def test_unknown_api_paths_are_json_404(api):
    for path in ("nope", "accounts/", "accounts/1/nope"):
        r = api["admin"].get(path)
        assert r.status_code == 404 and r.json() == {"detail": r.json()["detail"]}


def test_a_role_change_applies_to_the_next_api_request(api, users):
    """Tokens are remembered for a few seconds per process; a change to the user is seen at once."""
    assert api["rep_a"].get("users/me").json()["role"] == "sales_rep"
    users["rep_a"].role = "read_only"
    users["rep_a"].save()
    assert api["rep_a"].get("users/me").json()["role"] == "read_only"
    assert api["rep_a"].post("accounts", {"name": "只读公司"}).status_code == 403


def test_schema_names_are_unique_so_the_openapi_components_do_not_overwrite_each_other():
    from ninja import Schema

    import guanxi.api  # noqa: F401  (imports every router)

    seen: dict[str, str] = {}
    clashes = []
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__module__.startswith("guanxi."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append((seen[cls.__name__], where))
        seen.setdefault(cls.__name__, where)
    assert clashes == []
