"""Portal accounts: sign up, verify the e-mail address (which links the account to a contact), log in with
throttling, and reset a forgotten password. Links are signed tokens with an expiry, sent through Django's
e-mail backend. Bad input raises ValidationError keyed by field and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from guanxi.core.models import Role, User
from guanxi.core.records import fail
from guanxi.core.services import clear_login_failures, login_blocked, record_login_failure
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, ContactMethod, ContactMethodKind
from guanxi.customers.services import clean_normalized
from guanxi.quality.normalize import clean_text, normalize_email

from .models import PortalUser

VERIFY_SALT = "guanxi.portal.verify"
RESET_SALT = "guanxi.portal.reset"
LinkFor = Callable[[str], str]  # token → the absolute URL the e-mail carries


def _stamp(user: PortalUser) -> str:
    """Changes with the password (and the address): a reset link works once, a verify link for one address."""
    return salted_hmac("guanxi.portal.stamp", f"{user.email}|{user.password}").hexdigest()[:20]


def make_token(user: PortalUser, salt: str) -> str:
    return signing.dumps({"u": user.pk, "s": _stamp(user)}, salt=salt, compress=True)


def _user_for_token(token: Any, salt: str, hours: int) -> PortalUser:
    invalid = {"token": [_("This link is not valid (it may have been used already). Ask for a new one.")]}
    try:
        data = signing.loads(str(token), salt=salt, max_age=dt.timedelta(hours=hours))
    except signing.SignatureExpired:
        fail({"token": [_("This link has expired. Ask for a new one.")]})
    except signing.BadSignature:
        fail(invalid)
    user = PortalUser.objects.filter(pk=data.get("u") if isinstance(data, dict) else None).first()
    if user is None or data.get("s") != _stamp(user) or not user.is_active:
        fail(invalid)
    return user


def _mail(user: PortalUser, subject: str, body: str) -> None:
    send_mail(subject, body, None, [user.email])


def _password_errors(password: Any, password2: Any, user: PortalUser | None) -> list[str]:
    if not isinstance(password, str) or not password:
        return [_("This field is required.")]
    if password != password2:
        return [_("The two passwords differ.")]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


@transaction.atomic
def sign_up(data: dict[str, Any], link_for: LinkFor, language: str = "", address: str = "") -> PortalUser:
    """A new, unverified account; the verification link is e-mailed. Signing up again with an address not
    yet verified replaces the name, company and password and sends a new link. Sign-ups are counted like
    failed log-ins (per e-mail address and per client), so the form cannot be used to flood a mailbox."""
    errors: dict[str, list[str]] = {}
    email = clean_normalized(normalize_email, data.get("email") if isinstance(data.get("email"), str) else "",
                             "email", errors)
    if email and login_blocked(f"portal-signup:{email}", address):
        fail({"email": [_("Too many sign-ups for this address or from your network. Try again later.")]})
    if not email and "email" not in errors:
        errors["email"] = [_("This field is required.")]
    name = clean_text(data.get("name") or "")[:100] if isinstance(data.get("name"), str) else ""
    company = clean_text(data.get("company") or "")[:200] if isinstance(data.get("company"), str) else ""
    for key, value in (("name", name), ("company", company)):
        if not value:
            errors[key] = [_("This field is required.")]
    user = PortalUser.objects.select_for_update().filter(email=email).first() if email else None
    if user is not None and user.is_verified:
        errors["email"] = [_("There is already an account for this address: log in, or reset the password.")]
    password_errors = _password_errors(data.get("password"), data.get("password2"),
                                       user or PortalUser(email=email, name=name))
    if password_errors:
        errors["password"] = password_errors
    fail(errors)
    user = user or PortalUser(email=email)
    user.name, user.company, user.language = name, company, (language or "")[:10]
    user.set_password(data["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same address signed up twice at once
        fail({"email": [_("There is already an account for this address: log in, or reset the password.")]})
    record_login_failure(f"portal-signup:{email}", address)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        _mail(user, _("Confirm your e-mail address"),
              _("Hello %(name)s,\n\nplease confirm your address to open your customer portal account:\n\n%(url)s\n\n"
                "The link is valid for %(hours)s hours. If you did not sign up, ignore this message.")
              % {"name": user.name, "url": link_for(make_token(user, VERIFY_SALT)),
                 "hours": settings.PORTAL_VERIFY_HOURS})
    return user


def _contact_for(user: PortalUser) -> Contact:
    """The contact with this e-mail address (the one with a company first), or a new contact (and company),
    owned by settings.PORTAL_CONTACT_OWNER or, without one, left unowned in the public pool."""
    matches = (Contact.objects.filter(pk__in=ContactMethod.objects.filter(kind=ContactMethodKind.EMAIL,
                                                                         normalized=user.email).values("contact_id"))
               .order_by("primary_account_id", "pk"))
    found = [c for c in matches[:10]]
    with_company = [c for c in found if c.primary_account_id]
    if with_company or found:
        return (with_company or found)[0]
    owner = User.objects.filter(username=settings.PORTAL_CONTACT_OWNER, is_active=True).first() \
        if settings.PORTAL_CONTACT_OWNER else None
    actor = owner or User.objects.filter(is_active=True).filter(role=Role.ADMIN).order_by("pk").first() \
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    if actor is None:
        fail({"token": [_("The portal is not set up yet: no one can receive new customers. Try again later.")]})
    owner_field = {"owner_id": owner.pk} if owner else {"owner_id": None}
    account = customer_services.create_account(actor, {"name": user.company, **owner_field})
    return customer_services.create_contact(actor, {"name": user.name, "emails": [user.email],
                                                    "account_ids": [account.pk], **owner_field})


@transaction.atomic
def verify(token: Any) -> PortalUser:
    """The e-mailed link was opened: the address is verified and the account linked to its contact."""
    user = _user_for_token(token, VERIFY_SALT, settings.PORTAL_VERIFY_HOURS)
    user = PortalUser.objects.select_for_update().get(pk=user.pk)
    if user.is_verified:  # the link logs in once, not for as long as it is valid
        fail({"token": [_("This address is confirmed already: log in with your password.")]})
    user.contact = _contact_for(user)
    user.verified_at = timezone.now()
    user.save(update_fields=["contact", "verified_at"])
    return user


def _throttle_key(email: str) -> str:
    return f"portal:{email}"[:150]


def authenticate(email: Any, password: Any, address: str) -> PortalUser:
    """The account for this address and password, verified and active. Failures are counted per address and
    per client like the CRM's log-in; once blocked, the password is not even checked."""
    text = clean_text(email)[:254].lower() if isinstance(email, str) else ""
    key = _throttle_key(text)
    if login_blocked(key, address):
        fail({"__all__": [_("Too many failed log-in attempts. Try again later, or reset your password.")]})
    user = PortalUser.objects.filter(email=text).first() if text else None
    if user is None or not isinstance(password, str) or not user.check_password(password) or not user.is_active:
        record_login_failure(key, address)
        fail({"__all__": [_("Wrong e-mail address or password.")]})
    if not user.can_log_in:
        fail({"__all__": [_("Please confirm your e-mail address first: open the link we sent you.")]})
    clear_login_failures(key)
    PortalUser.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def request_reset(email: Any, link_for: LinkFor) -> None:
    """E-mail a password-reset link to a verified account with this address; says nothing either way, so the
    form does not tell strangers who has an account."""
    text = clean_text(email)[:254].lower() if isinstance(email, str) else ""
    user = PortalUser.objects.filter(email=text, is_active=True, verified_at__isnull=False).first() if text else None
    if user is None:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        _mail(user, _("Reset your portal password"),
              _("Hello %(name)s,\n\nto choose a new password for the customer portal, open:\n\n%(url)s\n\n"
                "The link is valid for %(hours)s hours and works once. If you did not ask for it, ignore this "
                "message.") % {"name": user.name, "url": link_for(make_token(user, RESET_SALT)),
                               "hours": settings.PORTAL_RESET_HOURS})


def user_for_reset(token: Any) -> PortalUser:
    return _user_for_token(token, RESET_SALT, settings.PORTAL_RESET_HOURS)


@transaction.atomic
def reset_password(token: Any, password: Any, password2: Any) -> PortalUser:
    user = user_for_reset(token)
    errors = _password_errors(password, password2, user)
    fail({"password": errors} if errors else {})
    user.set_password(password)
    user.save(update_fields=["password"])
    clear_login_failures(_throttle_key(user.email))
    return user
