"""The mailbox API: administrators only, passwords write-only, 400 naming the fields, sync and health against
the real Dovecot."""

from __future__ import annotations

import pytest

from guanxi.contact_center.email_models import Mailbox
from guanxi.service.ticket_models import Ticket
from tests.api.conftest import ApiClient
from tests.contact_center.conftest import free_port
from tests.contact_center.test_email_ingest import make_mail


@pytest.fixture
def api(users):
    from guanxi.core.services import issue_token

    return {name: ApiClient(issue_token(users[name])) for name in ("admin", "manager_a")}


BODY = {"name": "售后", "address": "after@guanxi.test", "imap_host": "imap.example.cn", "imap_user": "after",
        "imap_password": "s3cret-pw", "smtp_host": "smtp.example.cn", "smtp_password": "smtp-s3cret"}


def test_create_get_patch_with_write_only_passwords(api, support_queue):
    created = api["admin"].post("mailboxes", {**BODY, "question_group_id": support_queue[1].pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["imap_password_set"] and body["smtp_password_set"]
    assert "s3cret" not in created.content.decode() and "imap_password" not in body
    pk = body["id"]
    listing = api["admin"].get("mailboxes")
    assert [m["address"] for m in listing.json()] == ["after@guanxi.test"] and "s3cret" not in listing.content.decode()
    patched = api["admin"].patch(f"mailboxes/{pk}", {"name": "售后部", "imap_password": ""})
    assert patched.status_code == 200 and patched.json()["name"] == "售后部"
    assert Mailbox.objects.get(pk=pk).imap_password == "s3cret-pw"
    api["admin"].patch(f"mailboxes/{pk}", {"imap_password": "new-pw"})
    assert Mailbox.objects.get(pk=pk).imap_password == "new-pw"
    assert body["use_idle"] is True  # push by default (guanxi serve watches it over IMAP IDLE)
    assert api["admin"].patch(f"mailboxes/{pk}", {"use_idle": False}).json()["use_idle"] is False
    assert not Mailbox.objects.get(pk=pk).use_idle


def test_bad_input_is_a_400_naming_the_fields(api):
    response = api["admin"].post("mailboxes", {**BODY, "imap_port": 0, "imap_security": "bogus"})
    assert response.status_code == 400
    assert {"imap_port"} <= set(response.json()["errors"])
    response = api["admin"].post("mailboxes", {**BODY, "address": "not-an-address", "imap_security": "bogus"})
    assert response.status_code == 400 and {"address", "imap_security"} <= set(response.json()["errors"])
    assert api["admin"].post("mailboxes", "{not json").status_code == 400
    for half in ("@H\u00e2", "support@"):  # an "@" but no address: refused under `address`, not a 500
        response = api["admin"].post("mailboxes", {**BODY, "address": half})
        assert response.status_code == 400 and "address" in response.json()["errors"]
    assert Mailbox.objects.count() == 0


def test_only_administrators(api, mailbox):
    assert api["manager_a"].get("mailboxes").status_code == 403
    assert api["manager_a"].post("mailboxes", BODY).status_code == 403
    assert api["manager_a"].get(f"mailboxes/{mailbox.pk}/health").status_code == 403
    assert api["manager_a"].post(f"mailboxes/{mailbox.pk}/sync").status_code == 403
    assert api["admin"].get("mailboxes/999999/health").status_code == 404
    assert api["admin"].post(f"mailboxes/{mailbox.pk}/sync?days=0").status_code == 400


def test_sync_and_health(api, mailbox, dovecot, django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail())
    with django_capture_on_commit_callbacks(execute=True):
        response = api["admin"].post(f"mailboxes/{mailbox.pk}/sync")
    assert response.status_code == 200
    assert response.json() == {"fetched": 1, "created": 1, "statuses": {"ticket": 1}, "resynced": False, "error": ""}
    with django_capture_on_commit_callbacks(execute=True):
        again = api["admin"].post(f"mailboxes/{mailbox.pk}/sync?days=3")
    assert again.json()["fetched"] == 1 and again.json()["created"] == 0 and Ticket.objects.count() == 1
    health = api["admin"].get(f"mailboxes/{mailbox.pk}/health").json()
    assert health["counts"]["ticket"] == 1 and health["total"] == 1 and health["quarantined"] == []
    assert health["mailbox"]["last_success_at"] is not None
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    failed = api["admin"].post(f"mailboxes/{mailbox.pk}/sync")
    assert failed.status_code == 200 and "ConnectionRefused" in failed.json()["error"]
    assert "ConnectionRefused" in api["admin"].get(f"mailboxes/{mailbox.pk}/health").json()["mailbox"]["last_error"]
