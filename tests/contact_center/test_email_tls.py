"""Mail over TLS against real servers: a Dovecot that requires TLS (implicit on one port, STARTTLS on the other)
and an aiosmtpd that refuses mail before STARTTLS, both with a certificate signed by an authority made at test
time. The client verifies certificates against the process's trust store (ssl.create_default_context): the tests
trust the authority through SSL_CERT_FILE, and without it the connection is refused and the error shown."""

from __future__ import annotations

import pytest

from guanxi.contact_center import email_ingest, email_services
from guanxi.contact_center.email_imap import sync
from guanxi.contact_center.email_models import Mailbox, OutboundEmail, OutboundKind
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket
from tests.contact_center.test_email_ingest import make_mail


@pytest.fixture
def tls_mailbox(users, dovecot_tls, smtp_tls, media, support_queue):
    def make(imap_security: str = "starttls", smtp_security: str = "starttls") -> Mailbox:
        port = dovecot_tls.ssl_port if imap_security == "ssl" else dovecot_tls.port
        return email_services.create_mailbox(users["admin"], {
            "name": "客服", "address": "support@guanxi.test", "imap_host": dovecot_tls.host, "imap_port": port,
            "imap_security": imap_security, "imap_user": dovecot_tls.user, "imap_password": dovecot_tls.password,
            "imap_folder": dovecot_tls.new_folder(), "smtp_host": "127.0.0.1", "smtp_port": smtp_tls.port,
            "smtp_security": smtp_security, "question_group_id": support_queue[1].pk, "auto_acknowledge": False,
        })
    return make


@pytest.fixture
def trusted(monkeypatch, tls_certs):
    """The process trusts the test authority (what an operator does for a private CA: SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", tls_certs.ca_file)


@pytest.fixture
def untrusted(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _agent_reply(mailbox: Mailbox, users, capture) -> OutboundEmail:
    """A customer's mail opens a ticket and an agent answers it: the answer is mailed after commit."""
    with capture(execute=True):
        email_ingest.ingest(mailbox, make_mail())
    with capture(execute=True):
        desk.reply(users["admin"], Ticket.objects.get(), "请重启打印机再试。")
    return OutboundEmail.objects.get(kind=OutboundKind.REPLY)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_a_mailbox_over_tls_syncs_the_new_message(trusted, tls_mailbox, dovecot_tls, security):
    mailbox = tls_mailbox(imap_security=security)
    dovecot_tls.append(mailbox.imap_folder, make_mail())
    result = sync(mailbox)
    assert result.error == "" and result.created == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_success_at is not None
    assert Ticket.objects.get().subject == "打印机坏了"


def test_an_agent_reply_goes_out_through_smtp_with_starttls(trusted, tls_mailbox, smtp_tls, users,
                                                            django_capture_on_commit_callbacks):
    out = _agent_reply(tls_mailbox(), users, django_capture_on_commit_callbacks)
    assert out.sent_at is not None and out.error == ""
    # the server refuses MAIL before STARTTLS: the message arriving means it went over TLS
    assert [m["Message-ID"] for m in smtp_tls.messages] == [f"<{out.message_id}>"]
    assert smtp_tls.messages[0]["To"] == "zhang.wei@xingchen.cn"


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_a_server_certificate_not_trusted_is_refused_and_shown_on_the_mailbox(untrusted, tls_mailbox, dovecot_tls,
                                                                              security):
    mailbox = tls_mailbox(imap_security=security)
    dovecot_tls.append(mailbox.imap_folder, make_mail())
    result = sync(mailbox)
    assert result.created == 0 and "CERTIFICATE_VERIFY_FAILED" in result.error
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                                         "verify failed")
    assert mailbox.last_success_at is None and not Ticket.objects.exists()


def test_an_smtp_certificate_not_trusted_is_refused_and_the_mail_kept_for_retry(
        untrusted, tls_mailbox, smtp_tls, users, django_capture_on_commit_callbacks):
    out = _agent_reply(tls_mailbox(), users, django_capture_on_commit_callbacks)
    assert out.sent_at is None and "CERTIFICATE_VERIFY_FAILED" in out.error
    assert smtp_tls.messages == []
