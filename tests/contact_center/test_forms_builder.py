"""Building web forms: what the builder refuses (field by field), the pages an administrator uses (list, builder,
preview and embed snippets), the REST resource, and that nobody else may build or change one."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.contact_center import form_services
from guanxi.contact_center.email_models import Mailbox
from guanxi.contact_center.form_models import WebForm
from tests.api.conftest import ApiClient
from tests.contact_center.conftest import LEAD_FIELDS, ORIGIN, TICKET_FIELDS


def errors_of(actor, data, form=None) -> dict:
    with pytest.raises(ValidationError) as caught:
        form_services.save_form(actor, form, data)
    return caught.value.message_dict


def test_the_builder_names_each_problem(users, custom_fields):
    admin = users["admin"]
    base = {"name": "表单", "kind": "ticket", "actor_id": admin.pk}
    assert set(errors_of(admin, {**base, "name": "", "kind": "survey", "fields": []})) >= {"name", "kind", "fields"}
    bad_fields = [
        {"label_zh": "", "label_en": "", "type": "text"},
        {"label_zh": "类型", "type": "colour"},
        {"label_zh": "选项", "type": "choice", "choices": []},
        {"label_zh": "邮箱", "type": "number", "target": "contact.email"},
        {"label_zh": "线索", "type": "text", "target": "lead.name"},
        {"label_zh": "未知", "type": "text", "target": "contact.custom.nope"},
        {"label_zh": "邮箱", "type": "email", "target": "contact.email"},
        {"label_zh": "又一个邮箱", "type": "email", "target": "contact.email"},
    ]
    errors = errors_of(admin, {**base, "fields": bad_fields})
    assert set(errors) == {"fields.0.label_zh", "fields.1.type", "fields.2.choices", "fields.3.type",
                           "fields.4.target", "fields.5.target", "fields.7.target"}
    assert "Field 7" in errors["fields.7.target"][0]
    no_reach = [{"label_zh": "主题", "type": "text", "target": "ticket.subject"}]
    assert "fields" in errors_of(admin, {**base, "fields": no_reach})
    ok = TICKET_FIELDS
    assert set(errors_of(admin, {**base, "fields": ok, "actor_id": users["viewer"].pk})) == {"actor_id"}
    assert set(errors_of(admin, {**base, "fields": ok, "allowed_origins": "https://a.cn/path\nftp://b"})) == {
        "allowed_origins"}
    assert set(errors_of(admin, {**base, "fields": ok, "redirect_url": "javascript:alert(1)"})) == {"redirect_url"}
    assert set(errors_of(admin, {**base, "fields": ok, "consent_enabled": True})) == {"consent_text_zh"}
    no_smtp = Mailbox.objects.create(name="收件", address="in@guanxi.test", imap_host="x", imap_user="x")
    assert set(errors_of(admin, {**base, "fields": ok, "ack_mailbox_id": no_smtp.pk})) == {
        "ack_mailbox_id", "ack_subject", "ack_body"}


def test_keys_are_given_once_and_kept_when_fields_move(users, custom_fields):
    admin = users["admin"]
    form = form_services.save_form(admin, None, {"name": "线索", "kind": "lead", "fields": LEAD_FIELDS,
                                                 "actor_id": admin.pk})
    keys = [f["key"] for f in form.fields]
    assert keys == [f"f{i}" for i in range(1, len(LEAD_FIELDS) + 1)]
    moved = [form.fields[2], form.fields[0], {"label_en": "Source", "type": "text"}]  # reorder, drop, add
    form = form_services.save_form(admin, form, {"name": "线索", "kind": "ticket", "fields": moved,
                                                 "actor_id": admin.pk})
    assert [f["key"] for f in form.fields] == ["f3", "f1", "f8"] and form.kind == "lead"  # the kind stays


def test_only_administrators_build_forms(users, ticket_form, client):
    with pytest.raises(PermissionDenied):
        form_services.save_form(users["manager_a"], ticket_form, {"name": "x"})
    client.force_login(users["manager_a"])
    assert client.get("/settings/web-forms/").status_code == 403
    assert client.get(f"/settings/web-forms/{ticket_form.pk}/").status_code == 403
    assert client.post(f"/settings/web-forms/{ticket_form.pk}/edit/", {"name": "x"}).status_code == 403
    assert client.post(f"/settings/web-forms/{ticket_form.pk}/delete/").status_code == 403
    assert WebForm.objects.get().name == "售后表单"


def test_the_builder_page_saves_rows_in_order_and_redisplays_errors(client, users, support_queue, custom_fields):
    client.force_login(users["admin"])
    page = client.get("/settings/web-forms/new/?kind=ticket")
    assert page.status_code == 200 and "contact.custom.budget" in page.content.decode()
    rows = {"field-key": ["", ""], "field-label_zh": ["邮箱", "问题"], "field-label_en": ["Email", "Question"],
            "field-type": ["email", "textarea"], "field-required": ["1", ""],
            "field-target": ["contact.email", "ticket.description"], "field-choices": ["", ""]}
    bad = client.post("/settings/web-forms/new/?kind=ticket", {**rows, "name": "", "kind": "ticket",
                                                                "actor_id": users["admin"].pk})
    assert bad.status_code == 400 and "Question" in bad.content.decode()  # the rows typed are kept
    saved = client.post("/settings/web-forms/new/?kind=ticket", {
        **rows, "name": "<i>售后</i>", "kind": "ticket", "actor_id": users["admin"].pk, "active": "on",
        "allowed_origins": ORIGIN, "queue_id": support_queue[0].pk})
    form = WebForm.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/settings/web-forms/{form.pk}/"
    assert [(f["key"], f["label_en"], f["required"]) for f in form.fields] == [("f1", "Email", True),
                                                                               ("f2", "Question", False)]
    detail = client.get(saved["Location"]).content.decode()
    assert f"/f/{form.public_key}/" in detail and "&amp;lt;i&amp;gt;" in detail  # the snippet shows escaped code
    assert "<i>售后</i>" not in detail and "&lt;iframe src=" in detail and "_token" in detail
    listing = client.get("/settings/web-forms/").content.decode()
    assert "&lt;i&gt;售后&lt;/i&gt;" in listing


@pytest.fixture
def api(users):
    from guanxi.core.services import issue_token

    return {name: ApiClient(issue_token(users[name])) for name in ("admin", "manager_a")}


def test_the_api_creates_reads_replaces_and_deletes_forms(api, users, custom_fields):
    body = {"name": "试用申请", "kind": "lead", "fields": LEAD_FIELDS, "actor_id": users["admin"].pk,
            "allowed_origins": [ORIGIN]}
    created = api["admin"].post("web-forms", body)
    assert created.status_code == 201, created.content
    form = created.json()
    assert form["url"].endswith(f"/f/{form['public_key']}/") and form["fields"][4]["target"] == "lead.custom.beds"
    assert api["admin"].get("web-forms").json()[0]["id"] == form["id"]
    bad = api["admin"].post("web-forms", {**body, "fields": [{"label_zh": "x", "type": "text", "target": "no"}]})
    assert bad.status_code == 400 and "fields.0.target" in bad.json()["errors"]
    replaced = api["admin"].put(f"web-forms/{form['id']}", {**body, "name": "试用", "fields": form["fields"][:3]})
    assert replaced.status_code == 200 and [f["key"] for f in replaced.json()["fields"]] == ["f1", "f2", "f3"]
    assert api["manager_a"].get("web-forms").status_code == 403
    assert api["manager_a"].post("web-forms", body).status_code == 403
    assert api["manager_a"].put(f"web-forms/{form['id']}", body).status_code == 403
    assert api["manager_a"].delete(f"web-forms/{form['id']}").status_code == 403
    assert api["admin"].delete(f"web-forms/{form['id']}").status_code == 204
    assert api["admin"].get(f"web-forms/{form['id']}").status_code == 404
