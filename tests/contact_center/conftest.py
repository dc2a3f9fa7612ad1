"""Real mail servers for the email channel's tests: a private Dovecot (IMAP) for the session and an aiosmtpd
SMTP server per test. Each test gets its own IMAP folder and delivers messages into it by APPEND. And, for the
web chat, a fresh channel layer and cache per test, an online agent and a chat website."""

from __future__ import annotations

import ssl

import pytest
from aiosmtpd.controller import Controller
from channels.layers import channel_layers
from django.core.cache import cache

from guanxi.contact_center import email_services
from guanxi.contact_center.chat_models import ChatSite
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service.models import AgentProfile, Availability, QuestionGroup, Queue
from tests.contact_center.mailservers import dovecot_binary, free_port, running_dovecot
from tests.contact_center.tlscerts import make_certificates
from tests.sales.quotes.test_quote_views import Inbox


@pytest.fixture(scope="session")
def dovecot():
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("dovecot is not installed: apt-get install -y dovecot-imapd (see .ci/run)")
    with running_dovecot(binary) as server:
        yield server


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """A test authority and a server certificate for 127.0.0.1, made now."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dovecot_tls(tls_certs):
    """A second Dovecot with `ssl = required`: STARTTLS on `port`, implicit TLS on `ssl_port`."""
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("dovecot is not installed: apt-get install -y dovecot-imapd (see .ci/run)")
    with running_dovecot(binary, tls=tls_certs) as server:
        yield server


@pytest.fixture
def smtp_tls(tls_certs):
    """An SMTP server that refuses mail before STARTTLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_certs.cert_file, tls_certs.key_file)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def support_queue(db):
    queue = Queue.objects.create(name="General")
    group = QuestionGroup.objects.create(name="邮件", queue=queue)
    return queue, group


@pytest.fixture
def mailbox(users, dovecot, smtp, media, support_queue):
    _queue, group = support_queue
    folder = dovecot.new_folder()
    return email_services.create_mailbox(users["admin"], {
        "name": "客服", "address": "support@guanxi.test", "imap_host": dovecot.host, "imap_port": dovecot.port,
        "imap_security": "none", "imap_user": dovecot.user, "imap_password": dovecot.password,
        "imap_folder": folder, "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "question_group_id": group.pk, "auto_acknowledge": True,
    })


# Web chat
ORIGIN = "https://shop.example.cn"


@pytest.fixture(autouse=True)
def fresh_layer_and_cache():
    """Each test runs its own event loop: the in-memory channel layer and the rate-limit counters start empty."""
    channel_layers.backends = {}
    cache.clear()
    yield
    channel_layers.backends = {}


@pytest.fixture
def agent(users):
    user = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT,
                       first_name="丽", last_name="李")
    AgentProfile.objects.create(user=user, availability=Availability.ONLINE)
    return user


@pytest.fixture
def desk_setup(agent, support_queue, settings):
    """The inbox's agent belongs to the General queue and is off (routing leaves tickets unassigned)."""
    settings.CC_MESSAGES_PER_MINUTE = 1000
    queue, _group = support_queue
    profile = AgentProfile.objects.get(user=agent)
    profile.queues.add(queue)
    profile.availability = Availability.OFF
    profile.save()
    return queue


@pytest.fixture
def site(users):
    return ChatSite.objects.create(name="星辰商城", allowed_origins=[ORIGIN], service_user=users["admin"])


@pytest.fixture(autouse=True)
def _english(english):
    """The contact centre's tests read messages, pages and mails in English."""


# Web forms
@pytest.fixture
def custom_fields(db):
    from guanxi.core.models import CustomField

    return {"contact": CustomField.objects.create(model="contact", key="budget", label_zh="预算", label_en="Budget",
                                                  field_type="number"),
            "lead": CustomField.objects.create(model="lead", key="beds", label_zh="床位数", label_en="Beds",
                                               field_type="number")}


TICKET_FIELDS = [
    {"label_zh": "姓名", "label_en": "Name", "type": "text", "required": True, "target": "contact.name"},
    {"label_zh": "邮箱", "label_en": "Email", "type": "email", "target": "contact.email"},
    {"label_zh": "手机", "label_en": "Mobile", "type": "phone", "target": "contact.phone"},
    {"label_zh": "主题", "label_en": "Subject", "type": "text", "required": True, "target": "ticket.subject"},
    {"label_zh": "问题描述", "label_en": "Message", "type": "textarea", "required": True,
     "target": "ticket.description"},
    {"label_zh": "预算", "label_en": "Budget", "type": "number", "target": "contact.custom.budget"},
    {"label_zh": "紧急程度", "label_en": "Urgency", "type": "choice", "choices": ["一般", "紧急"]},
]
LEAD_FIELDS = [
    {"label_zh": "姓名", "label_en": "Name", "type": "text", "required": True, "target": "lead.name"},
    {"label_zh": "公司", "label_en": "Company", "type": "text", "target": "lead.company"},
    {"label_zh": "邮箱", "label_en": "Email", "type": "email", "target": "lead.email"},
    {"label_zh": "手机", "label_en": "Mobile", "type": "phone", "target": "lead.phone"},
    {"label_zh": "床位数", "label_en": "Beds", "type": "number", "target": "lead.custom.beds"},
    {"label_zh": "需求", "label_en": "Needs", "type": "textarea", "target": "lead.description"},
    {"label_zh": "想要演示", "label_en": "Wants a demo", "type": "yes_no"},
]


@pytest.fixture
def ticket_form(users, support_queue, custom_fields):
    from guanxi.contact_center import form_services

    queue, group = support_queue
    return form_services.save_form(users["admin"], None, {
        "name": "售后表单", "kind": "ticket", "fields": TICKET_FIELDS, "allowed_origins": [ORIGIN],
        "queue_id": queue.pk, "question_group_id": group.pk, "actor_id": users["admin"].pk,
        "consent_enabled": True, "consent_text_zh": "我同意接收产品资讯", "consent_text_en": "Send me product news"})


@pytest.fixture
def lead_form(users, custom_fields):
    from guanxi.contact_center import form_services

    return form_services.save_form(users["admin"], None, {
        "name": "试用申请", "kind": "lead", "fields": LEAD_FIELDS, "allowed_origins": [ORIGIN],
        "actor_id": users["admin"].pk, "lead_owner_id": users["rep_a"].pk})


def answers(form, **values):
    """Form-encoded answers by label (English), with a token issued a minute ago."""
    import time

    from guanxi.contact_center.form_submit import token

    keys = {f["label_en"]: f["key"] for f in form.fields}
    data = {keys.get(label, label): value for label, value in values.items()}
    data["_token"] = token(form, time.time() - 60)
    return data


# Phone (CTI)
@pytest.fixture
def pbx(users):
    """A cloud PBX posting to the webhook (its secret: "webhook-secret"), logging agentless calls as the admin."""
    from guanxi.contact_center.call_services import save_connection

    return save_connection(users["admin"], None, {"name": "云总机", "kind": "webhook", "secret": "webhook-secret",
                                                  "records_as_id": users["admin"].pk, "active": True})


@pytest.fixture
def agent_phone(users, agent):
    """agent_li answers on extension 1001."""
    from guanxi.contact_center.call_services import set_agent_phone

    return set_agent_phone(users["admin"], agent.pk, "1001")
