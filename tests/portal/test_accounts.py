"""Portal accounts: sign-up with a verification mail through a real SMTP server, tokens refused when wrong or
expired, matching to an existing contact by e-mail or a new contact, log-in throttling, password reset, and
customers kept out of every CRM page and the API."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from guanxi.customers.models import Account, Contact
from guanxi.portal import account_services
from guanxi.portal.models import PortalUser

from .conftest import PASSWORD, portal_login

SIGNUP = {"email": " Zhang.Wei@XINGCHEN.cn ", "name": "张伟", "company": "北京星辰", "password": PASSWORD,
          "password2": PASSWORD}


def _link(text: str) -> str:
    return re.search(r"https?://\S+", text).group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_sign_up_mails_a_link_through_smtp_that_activates_the_account_and_matches_the_contact(
        client, orgs, smtp, django_capture_on_commit_callbacks):
    response = client.post(reverse("portal:signup"), SIGNUP)
    assert response.status_code == 200
    assert "zhang.wei@xingchen.cn" in response.content.decode() or "Zhang.Wei" in response.content.decode()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "zhang.wei@xingchen.cn"
    user = PortalUser.objects.get()
    assert not user.is_verified and user.contact is None
    # Not verified yet: the password alone does not open the portal.
    response = client.post(reverse("portal:login"), {"email": "zhang.wei@xingchen.cn", "password": PASSWORD})
    assert response.status_code == 400
    body = message.get_payload(decode=True).decode()
    response = client.get(_path(_link(body)))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    user.refresh_from_db()
    assert user.is_verified and user.contact == orgs["contact_a"]  # matched by the normalised address
    assert Contact.objects.filter(name="张伟").count() == 1  # no second contact
    assert client.get(reverse("portal:home")).status_code == 200
    # The link logs in once: opened again (say, from a forwarded mail) it is refused.
    other = client.__class__()
    assert other.get(_path(_link(body))).status_code == 400
    assert other.get(reverse("portal:home")).status_code == 302


def test_an_unknown_address_gets_a_new_unowned_contact_and_company_in_the_public_pool(client, users, settings):
    client.post(reverse("portal:signup"), {**SIGNUP, "email": "chen@newco.cn", "company": "深圳新创科技"})
    token = _path(_link(mail.outbox[-1].body))
    client.get(token)
    user = PortalUser.objects.get(email="chen@newco.cn")
    assert user.contact.name == "张伟" and user.contact.owner is None
    account = Account.objects.get(name="深圳新创科技")
    assert account.owner is None and user.contact.primary_account == account


def test_new_contacts_go_to_the_configured_owner(client, users, settings):
    settings.PORTAL_CONTACT_OWNER = "rep_a"
    client.post(reverse("portal:signup"), {**SIGNUP, "email": "chen@newco.cn", "company": "深圳新创科技"})
    client.get(_path(_link(mail.outbox[-1].body)))
    contact = PortalUser.objects.get(email="chen@newco.cn").contact
    assert contact.owner == users["rep_a"] and contact.primary_account.owner == users["rep_a"]


def test_sign_up_refuses_bad_input_naming_the_fields_and_creates_nothing(client, db):
    response = client.post(reverse("portal:signup"), {"email": "not-an-address", "name": "", "company": "",
                                                      "password": "short", "password2": "other"})
    assert response.status_code == 400
    fields = set(re.findall(r'data-field="(\w+)"', response.content.decode()))
    assert fields == {"email", "name", "company", "password"}
    assert not PortalUser.objects.exists() and not mail.outbox


def test_wrong_and_expired_tokens_are_refused(client, orgs, settings):
    client.post(reverse("portal:signup"), SIGNUP)
    path = _path(_link(mail.outbox[-1].body))
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = reverse("portal:verify", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")])
    assert client.get(tampered).status_code == 400
    settings.PORTAL_VERIFY_HOURS = -1
    response = client.get(path)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert not PortalUser.objects.get().is_verified
    # A reset token is no verification token (another salt).
    user = PortalUser.objects.get()
    assert client.get(reverse("portal:verify", args=[account_services.make_token(user, account_services.RESET_SALT)]
                              )).status_code == 400


def test_log_in_is_throttled_and_then_refused_even_with_the_right_password(client, customers_in, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _i in range(3):
        assert client.post(reverse("portal:login"), {"email": "zhang.wei@xingchen.cn", "password": "wrong"}
                           ).status_code == 400
    response = client.post(reverse("portal:login"), {"email": "zhang.wei@xingchen.cn", "password": PASSWORD})
    assert response.status_code == 400 and "Too many" in response.content.decode()


def test_password_reset_by_mail_works_once(client, customers_in):
    client.post(reverse("portal:reset_request"), {"email": "zhang.wei@xingchen.cn"})
    client.post(reverse("portal:reset_request"), {"email": "nobody@nowhere.cn"})  # says the same, sends nothing
    assert len(mail.outbox) == 1
    path = _path(_link(mail.outbox[0].body))
    new = "a-new-portal-pass-55"
    assert client.post(path, {"password": new, "password2": new}).status_code == 302
    assert client.post(path, {"password": "again-other-7788", "password2": "again-other-7788"}).status_code == 400
    assert client.post(reverse("portal:login"), {"email": "zhang.wei@xingchen.cn", "password": new}
                       ).status_code == 302


@pytest.mark.parametrize("name", ["home", "customers:account_list", "service:ticket_list", "knowledge:home",
                                  "service:csat_report"])
def test_a_portal_customer_is_anonymous_to_every_crm_page(zhang_client, name):
    response = zhang_client.get(reverse(name))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_portal_customer_is_refused_by_the_api(zhang_client, staff_ticket):
    assert zhang_client.get("/api/v1/tickets").status_code == 401
    assert zhang_client.get(f"/api/v1/tickets/{staff_ticket.pk}").status_code == 401


def test_the_portal_is_bilingual_with_its_own_language_switch(client, customers_in):
    portal_login(client, customers_in["zhang"])
    client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:home")})
    assert "Our tickets" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("portal:home")})
    page = client.get(reverse("portal:home")).content.decode()
    assert 'id="portal-language"' in page and 'lang="zh-hans"' in page


def test_log_out_ends_the_portal_session(zhang_client):
    zhang_client.post(reverse("portal:logout"))
    assert zhang_client.get(reverse("portal:home")).status_code == 302


def test_sign_ups_are_throttled_so_the_form_cannot_flood_a_mailbox(client, db, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _i in range(2):
        assert client.post(reverse("portal:signup"), {**SIGNUP, "email": "victim@example.cn"}).status_code == 200
    response = client.post(reverse("portal:signup"), {**SIGNUP, "email": "victim@example.cn"})
    assert response.status_code == 400 and "Too many sign-ups" in response.content.decode()
    assert len(mail.outbox) == 2
