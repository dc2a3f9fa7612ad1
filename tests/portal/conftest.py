import pytest
from django.urls import reverse

from guanxi.customers import services as customers
from guanxi.portal.models import PortalUser
from guanxi.service import services as desk_services
from tests.sales.quotes.test_quote_views import smtp  # noqa: F401 (a real SMTP server, aiosmtpd)
from tests.service.conftest import TUESDAY_10, desk  # noqa: F401

PASSWORD = "portal-pass-937"


def make_portal_user(contact, email: str, name: str = "客户") -> PortalUser:
    from django.utils import timezone

    user = PortalUser(email=email, name=name, company=contact.primary_account.name if contact.primary_account_id
                      else "", contact=contact, verified_at=timezone.now())
    user.set_password(PASSWORD)
    user.save()
    return user


def portal_login(client, user: PortalUser):
    response = client.post(reverse("portal:login"), {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def orgs(users, zhang):
    """Two customer organisations: 北京星辰 (张伟, from the shared fixture) and 广州海风贸易 (李娜, rep_b's)."""
    account_a, contact_a = zhang
    rep_b = users["rep_b"]
    account_b = customers.create_account(rep_b, {"name": "广州海风贸易有限公司"})
    contact_b = customers.create_contact(rep_b, {"name": "李娜", "account_ids": [account_b.pk],
                                                 "emails": ["li.na@haifeng.cn"]})
    colleague_a = customers.create_contact(users["rep_a"], {"name": "王芳", "account_ids": [account_a.pk],
                                                            "emails": ["wang.fang@xingchen.cn"]})
    return {"account_a": account_a, "contact_a": contact_a, "colleague_a": colleague_a,
            "account_b": account_b, "contact_b": contact_b}


@pytest.fixture
def customers_in(orgs):
    """Portal users: 张伟 and 王芳 of organisation A, 李娜 of organisation B."""
    return {"zhang": make_portal_user(orgs["contact_a"], "zhang.wei@xingchen.cn", "张伟"),
            "wang": make_portal_user(orgs["colleague_a"], "wang.fang@xingchen.cn", "王芳"),
            "li": make_portal_user(orgs["contact_b"], "li.na@haifeng.cn", "李娜")}


@pytest.fixture
def zhang_client(client, customers_in):
    return portal_login(client, customers_in["zhang"])


@pytest.fixture
def staff_ticket(desk, orgs, users):  # noqa: F811 (the imported fixture)
    """A ticket an agent opened for organisation A."""
    return desk_services.create_ticket(users["admin"], {"subject": "打印机无法连接", "account_id": orgs["account_a"].pk,
                                                      "contact_id": orgs["contact_a"].pk,
                                                      "question_group_id": desk["billing"].pk}, now=TUESDAY_10)


@pytest.fixture(autouse=True)
def _english(english):
    """The portal tests read the customer's messages in English."""
