"""Schemathesis over the whole OpenAPI schema of /api/v1/: no request, however malformed, gets a 5xx.

The app is called in-process through its WSGI handler (no server), authenticated with a real token of an
administrator, against a database with a little data of every kind the API shows.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from guanxi.activities.services import add_note
from guanxi.core.models import CustomField, JobProgress
from guanxi.core.services import issue_token
from guanxi.customers import services
from guanxi.sales.services import create_opportunity
from guanxi.service.services import create_ticket, reply

MAX_EXAMPLES = 25


@pytest.fixture
def sample_data(users):
    admin, rep = users["admin"], users["rep_a"]
    CustomField.objects.create(model="account", key="spend", label_zh="年采购额", label_en="Annual spend",
                               field_type="money")
    CustomField.objects.create(model="account", key="channels", label_zh="渠道", label_en="Channels",
                               field_type="multi_choice", choices=["wechat", "web"])
    CustomField.objects.create(model="contact", key="since", label_zh="认识时间", label_en="Known since",
                               field_type="date")
    parent = services.create_account(rep, {"name": "星辰集团", "classification": "A", "tags": ["重点"],
                                           "custom": {"spend": "1200", "channels": ["web"]},
                                           "addresses": [{"line": "北京市朝阳区建国路88号"}]})
    child = services.create_account(admin, {"name": "星辰医疗", "parent_id": parent.pk, "owner_id": rep.pk})
    contact = services.create_contact(rep, {"name": "张伟", "account_ids": [child.pk, parent.pk],
                                            "phones": ["138 0013 8000"], "emails": ["zhang.wei@xingchen.cn"],
                                            "custom": {"since": "2020-01-01"}, "tags": ["重点"]})
    services.create_contact(users["rep_b"], {"name": "李娜", "phones": ["+86 139 0000 0000"]})
    add_note(rep, parent, "first visit")
    add_note(rep, contact, "likes tea")
    create_opportunity(rep, {"name": "CT 设备", "account_id": child.pk, "amount": "1200.50"})
    ticket = create_ticket(rep, {"subject": "无法登录", "account_id": child.pk})
    reply(admin, ticket, "请重置密码")
    JobProgress.objects.create(kind="import", label="contacts.csv", user=admin, total=10, done=3)
    _sales_documents(rep, child)
    return {"account": parent, "contact": contact}


def _sales_documents(rep, account) -> None:
    """An accepted quote's order with a delivery, a contract and a payment plan with a payment (ids 1)."""
    from django.conf import settings as django_settings

    from guanxi.sales import contract_services, delivery_services, payment_services, quote_services

    django_settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    quote = quote_services.create_quote(rep, {"account_id": account.pk, "lines": [
        {"description": "服务器", "quantity": "2", "unit_price": "100", "tax_rate": "13"}]})
    quote = quote_services.send_quote(rep, quote, quote.version, to="buyer@example.com")
    order = quote_services.accept_quote(rep, quote, quote.version)
    delivery_services.record_delivery(rep, order, {"lines": [{"order_line_id": order.lines.get().pk,
                                                              "quantity": "1"}]})
    contract_services.create_contract(rep, {"order_id": order.pk, "title": "供货合同", "start_date": "2026-01-01",
                                            "end_date": "2026-12-31"})
    plan = payment_services.set_plan(rep, order, {"count": 2, "first_due": "2026-01-31"})
    payment_services.record_payment(rep, plan, {"amount": "50"})


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    """Uploads (POST /imports) land in a temporary GUANXI_HOME, not the developer's data folder."""
    settings.HOME = tmp_path


@pytest.fixture
def admin_headers(db, users, sample_data):
    # Requests run inside the test's transaction, as with Django's test client.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {issue_token(users['admin'], 'schemathesis')}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The schema is read from the app itself (no database needed for it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler(), config=schemathesis.Config.from_dict({
    "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
    "phases": {"stateful": {"enabled": False}},
}))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance])

