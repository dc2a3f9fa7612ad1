"""The API of knowledge-base answers: a ticket's suggested articles (for whoever may see the ticket), the
automatic-answer setting per question group (administrators, 400 naming the field), and a mailbox's use."""

from __future__ import annotations

from guanxi.contact_center.email_kb_models import EmailAutoResponse
from guanxi.service.ticket_models import Ticket
from tests.api.conftest import ApiClient
from tests.contact_center.test_email_answers import QUESTION, articles  # noqa: F401 (fixture)
from tests.contact_center.test_email_ingest import poll


def clients(users) -> dict[str, ApiClient]:
    from guanxi.core.services import issue_token

    return {name: ApiClient(issue_token(users[name])) for name in ("admin", "manager_a", "rep_b")}


def test_a_tickets_suggestions(users, mailbox, dovecot, articles, django_capture_on_commit_callbacks,  # noqa: F811
                               django_assert_max_num_queries):
    dovecot.append(mailbox.imap_folder, QUESTION)
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    api = clients(users)
    with django_assert_max_num_queries(8):
        response = api["admin"].get(f"tickets/{ticket.pk}/kb-suggestions")
    assert response.status_code == 200
    rows = response.json()
    assert [r["article_id"] for r in rows][:2] == [articles["reset"].pk, articles["internal"].pk]
    public, internal = rows[0], rows[1]
    assert public["public_url"].endswith(f"/portal/kb/{articles['reset'].pk}/") and public["sent"] is False
    assert public["reply_text"] == f"如何重置密码: {public['public_url']}"
    assert internal["public_url"] is None and "核对身份" in internal["reply_text"]
    assert api["rep_b"].get(f"tickets/{ticket.pk}/kb-suggestions").status_code == 404


def test_the_automatic_answer_setting(users, support_queue):
    _queue, group = support_queue
    api = clients(users)
    assert api["manager_a"].get("email-auto-answers").status_code == 403
    listing = api["admin"].get("email-auto-answers").json()
    assert listing == [{"question_group_id": group.pk, "question_group": "邮件", "enabled": False, "min_score": 6,
                        "max_articles": 3, "template": ""}]
    bad = api["admin"].patch(f"email-auto-answers/{group.pk}", {"min_score": 0})
    assert bad.status_code == 400 and "min_score" in bad.json()["errors"]
    assert not EmailAutoResponse.objects.exists()
    done = api["admin"].patch(f"email-auto-answers/{group.pk}", {"enabled": True, "min_score": 9, "template": "好"})
    assert done.status_code == 200 and done.json()["enabled"] and done.json()["min_score"] == 9
    assert api["admin"].patch(f"email-auto-answers/{group.pk}", {"template": None}).json()["template"] == ""
    assert api["admin"].get(f"email-auto-answers/{group.pk}").json()["min_score"] == 9
    assert api["admin"].get("email-auto-answers/999999").status_code == 404
    assert api["manager_a"].patch(f"email-auto-answers/{group.pk}", {"enabled": False}).status_code == 403


def test_a_mailbox_made_a_logging_address(users, mailbox):
    api = clients(users)
    body = api["admin"].patch(f"mailboxes/{mailbox.pk}", {"mode": "logging"}).json()
    assert body["mode"] == "logging" and body["idle_state"] == ""
    bad = api["admin"].patch(f"mailboxes/{mailbox.pk}", {"mode": "archive"})
    assert bad.status_code == 400 and "mode" in bad.json()["errors"]
    health = api["admin"].get(f"mailboxes/{mailbox.pk}/health").json()
    assert health["unmatched"] == [] and health["counts"]["logged"] == 0
