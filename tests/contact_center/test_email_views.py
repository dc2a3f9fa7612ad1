"""Mailbox pages: administrators only; the form keeps passwords write-only; the sync-health page shows errors,
counts and quarantined mail; Sync now and Reconcile read the real Dovecot without duplicating anything."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.contact_center.email_models import InboundEmail, Mailbox
from guanxi.service.ticket_models import Ticket
from tests.contact_center.conftest import free_port
from tests.contact_center.test_email_ingest import make_mail


@pytest.fixture
def admin_client(client, users):
    client.force_login(users["admin"])
    return client


def test_only_administrators_reach_the_mailbox_pages(client, users, mailbox):
    client.force_login(users["manager_a"])
    assert client.get(reverse("contact_center:mailbox_list")).status_code == 403
    assert client.get(reverse("contact_center:mailbox_health", args=[mailbox.pk])).status_code == 403
    assert client.post(reverse("contact_center:mailbox_sync", args=[mailbox.pk])).status_code == 403


def test_list_and_nav(admin_client, mailbox, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("contact_center:mailbox_list"))
    html = response.content.decode()
    assert 'id="nav-mailboxes"' in html and "support@guanxi.test" in html


def test_create_form_stores_an_encrypted_password_and_never_shows_it(admin_client, support_queue):
    data = {"name": "销售", "address": "Sales@Guanxi.Test", "imap_host": "imap.example.cn", "imap_port": "993",
            "imap_security": "ssl", "imap_user": "sales", "imap_password": "pa55-秘密", "imap_folder": "INBOX",
            "smtp_host": "smtp.example.cn", "smtp_port": "465", "smtp_security": "ssl", "smtp_user": "sales",
            "smtp_password": "smtp-pa55", "question_group_id": str(support_queue[1].pk), "active": "on",
            "auto_acknowledge": "on", "use_idle": "on"}
    response = admin_client.post(reverse("contact_center:mailbox_create"), data)
    assert response.status_code == 302
    box = Mailbox.objects.get()
    assert box.address == "sales@guanxi.test" and box.imap_password == "pa55-秘密" and box.use_idle
    assert "pa55" not in box.imap_password_enc
    page = admin_client.get(reverse("contact_center:mailbox_edit", args=[box.pk])).content.decode()
    assert "pa55" not in page and box.imap_password_enc not in page and "imap.example.cn" in page
    assert 'name="use_idle"' in page
    data.update(imap_password="", smtp_password="", name="销售部")  # blank keeps the stored passwords
    del data["use_idle"]  # push unticked: the minute poll only
    assert admin_client.post(reverse("contact_center:mailbox_edit", args=[box.pk]), data).status_code == 302
    box.refresh_from_db()
    assert (box.name, box.imap_password, box.smtp_password, box.use_idle) == ("销售部", "pa55-秘密", "smtp-pa55",
                                                                              False)


def test_bad_input_re_renders_with_field_errors(admin_client, mailbox):
    response = admin_client.post(reverse("contact_center:mailbox_create"), {
        "name": "", "address": "support@guanxi.test", "imap_port": "99999", "imap_security": "ssl",
        "smtp_security": "bogus", "imap_host": "x", "imap_user": "y"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "smtp_security" in form.errors
    response = admin_client.post(reverse("contact_center:mailbox_create"), {
        "name": "", "address": "support@guanxi.test", "imap_port": "99999", "imap_security": "ssl",
        "smtp_security": "ssl", "imap_host": "x", "imap_user": "y"})
    errors = response.context["form"].errors
    assert {"name", "address", "imap_port"} <= set(errors)
    assert Mailbox.objects.count() == 1


def test_health_page_shows_counts_quarantine_and_sync_now_and_reconcile(admin_client, mailbox, dovecot,
                                                                        django_capture_on_commit_callbacks,
                                                                        django_assert_max_num_queries):
    broken = (b"From: a@b.cn\r\nSubject: broken\r\nMessage-ID: <broken@mx>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=\"NEVER\"\r\n\r\nnothing\r\n")
    dovecot.append(mailbox.imap_folder, make_mail(), broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("contact_center:mailbox_sync", args=[mailbox.pk]), follow=True)
    html = response.content.decode()
    assert "Read 2 messages; 2 were new." in html
    assert "broken MIME structure" in html and "broken@mx" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("contact_center:mailbox_reconcile", args=[mailbox.pk]), {"days": "3"},
                                     follow=True)
    assert "Read 2 messages; 0 were new." in response.content.decode()
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 2
    response = admin_client.post(reverse("contact_center:mailbox_reconcile", args=[mailbox.pk]), {"days": "x"},
                                 follow=True)
    assert "Enter a number of days" in response.content.decode()
    with django_assert_max_num_queries(12):
        admin_client.get(reverse("contact_center:mailbox_health", args=[mailbox.pk]))


def test_unreachable_server_shows_on_the_health_page(admin_client, mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    html = admin_client.post(reverse("contact_center:mailbox_sync", args=[mailbox.pk]), follow=True).content.decode()
    assert "The sync failed" in html
    assert 'id="last-error"><span class="text-danger">ConnectionRefusedError' in html
    listing = admin_client.get(reverse("contact_center:mailbox_list")).content.decode()
    assert "ConnectionRefusedError" in listing


def test_ticket_email_panel_and_attachment_download_follow_ticket_visibility(client, users, mailbox, settings,
                                                                             django_capture_on_commit_callbacks,
                                                                             django_assert_max_num_queries):
    from guanxi.contact_center import email_ingest
    from tests.contact_center.test_email_ingest import mail_with_attachments

    settings.EMAIL_ATTACHMENT_MAX_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = email_ingest.ingest(mailbox, mail_with_attachments(b"%PDF-1.4 tiny", "<big>.zip", 500))
    ticket = row.ticket
    client.force_login(users["admin"])
    assert f'hx-get="{reverse("contact_center:ticket_email", args=[ticket.pk])}"' in client.get(
        reverse("service:ticket_detail", args=[ticket.pk])).content.decode()
    with django_assert_max_num_queries(8):
        html = client.get(reverse("contact_center:ticket_email", args=[ticket.pk])).content.decode()
    small = row.attachments.get(filename="发票.pdf")
    assert reverse("contact_center:email_attachment", args=[small.pk]) in html
    assert "&lt;big&gt;.zip" in html and "<big>" not in html and "refused" in html
    response = client.get(reverse("contact_center:email_attachment", args=[small.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 tiny"
    client.force_login(users["rep_b"])  # may not see this ticket
    assert client.get(reverse("contact_center:ticket_email", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("contact_center:email_attachment", args=[small.pk])).status_code == 404
