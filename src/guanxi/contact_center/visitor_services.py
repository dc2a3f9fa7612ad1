"""Visitor tracking: page views posted by the widget, the per-visitor rate limit, and identification (a visitor
who gives an email or phone is linked to the contact that has it, or to a new one).

Bad input raises core's ValidationError keyed by field and records nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.records import fail
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, ContactMethod, ContactMethodKind
from guanxi.quality.normalize import NormalizationError, clean_text, normalize_email, normalize_phone

from .chat_models import MAX_TITLE, MAX_URL, ChatConversation, ChatSite, PageView, Visitor

KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s-]{6,18}\d")
ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")
MAX_ORIGINS = 50


class RateLimited(Exception):
    """Too many requests from one visitor in the window."""


def check_rate(bucket: str, limit: int, window: int = 60) -> None:
    """At most `limit` calls per `window` seconds for `bucket` (in the shared cache, so across processes)."""
    key = f"cc-rate:{bucket}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    if count > limit:
        raise RateLimited(bucket)


def site_by_key(key: Any) -> ChatSite | None:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        return None
    return ChatSite.objects.filter(public_key=key, active=True).first()


def _text(data: dict, name: str, limit: int, errors: dict, *, required: bool = False, cut: bool = False) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = [_("Expected text.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > limit:
        if cut:
            return value[:limit]
        errors[name] = [_("At most %(max)s characters.") % {"max": limit}]
    return value


def clean_url(value: Any, name: str, errors: dict, *, required: bool) -> str:
    url = _text({name: value}, name, MAX_URL, errors, required=required)
    if url and name not in errors and not re.match(r"https?://", url, re.I):
        errors[name] = [_("Enter a web address starting with http:// or https://.")]
    return url


def clean_origins(value: Any, errors: dict, field: str = "allowed_origins") -> list[str]:
    """Web origins (scheme://host[:port], no path) from a list or one per line, without duplicates."""
    origins = value or []
    if isinstance(origins, str):
        origins = origins.split()
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        errors[field] = [_("Expected a list of origins.")]
        return []
    origins = [o.strip().rstrip("/") for o in origins if o.strip()]
    bad = [o for o in origins if not ORIGIN_RE.fullmatch(o)]
    if bad or len(origins) > MAX_ORIGINS:
        errors[field] = [_("Enter origins like https://www.example.cn (no path): %(bad)s")
                         % {"bad": ", ".join(bad[:3])}]
    return list(dict.fromkeys(origins))


def visitor_for(site: ChatSite, key: Any, *, user_agent: str = "", ip: str | None = None,
                now: dt.datetime | None = None) -> Visitor:
    """The site's visitor with this key, or a new one (an unknown, foreign or missing key starts afresh)."""
    now = now or timezone.now()
    visitor = None
    if isinstance(key, str) and KEY_RE.fullmatch(key):
        visitor = Visitor.objects.filter(key=key, site=site).first()
    if visitor is None:
        visitor = Visitor.objects.create(site=site, last_seen=now, user_agent=(user_agent or "")[:300], ip=ip)
    return visitor


@transaction.atomic
def track(site: ChatSite, data: dict[str, Any], *, user_agent: str = "", ip: str | None = None,
          now: dt.datetime | None = None) -> tuple[Visitor, PageView]:
    """Record one page view; `data` has url, title, referrer and the visitor's key (absent on the first view)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    key = data.get("visitor")
    if key not in (None, "") and (not isinstance(key, str) or not KEY_RE.fullmatch(key)):
        errors["visitor"] = [_("Not a valid visitor key.")]
    url = clean_url(data.get("url"), "url", errors, required=True)
    title = clean_text(_text(data, "title", MAX_TITLE, errors, cut=True))[:MAX_TITLE]
    referrer = clean_url(data.get("referrer"), "referrer", errors, required=False)
    fail(errors)
    check_rate(f"track:{key or ip}", settings.CC_TRACK_PER_MINUTE)
    visitor = visitor_for(site, key, user_agent=user_agent, ip=ip, now=now)
    view = PageView.objects.create(visitor=visitor, url=url, title=title, referrer=referrer, at=now)
    Visitor.objects.filter(pk=visitor.pk).update(last_seen=now, current_url=url, page_count=visitor.page_count + 1,
                                                 user_agent=(user_agent or visitor.user_agent)[:300],
                                                 ip=ip or visitor.ip)
    visitor.refresh_from_db()
    return visitor, view


# ------------------------------------------------------------------ identification

def clean_identity(data: dict[str, Any], errors: dict) -> tuple[str, str, str]:
    """(name, normalised email, E.164 phone) from a form; errors keyed by field."""
    name = clean_text(_text(data, "name", 100, errors))
    email = _text(data, "email", 254, errors)
    phone = _text(data, "phone", 32, errors)
    try:
        email = normalize_email(email) if email else ""
    except NormalizationError:
        errors["email"] = [_("Enter a valid email address.")]
    try:
        phone = normalize_phone(phone, settings.PHONE_REGION) if phone else ""
    except NormalizationError:
        errors["phone"] = [_("Enter a valid phone number.")]
    return name, email, phone


def identity_in_text(text: str) -> tuple[str, str]:
    """An email address and a phone number a visitor typed into a message (each "" when there is none)."""
    email = phone = ""
    for match in EMAIL_IN_TEXT.findall(text):
        try:
            email = normalize_email(match)
            break
        except NormalizationError:
            continue
    for match in PHONE_IN_TEXT.findall(text):
        try:
            phone = normalize_phone(match, settings.PHONE_REGION)
            break
        except NormalizationError:
            continue
    return email, phone


def find_contact(email: str, phone: str) -> Contact | None:
    """The contact with this normalised email (first) or phone, in one query."""
    methods = ContactMethod.objects.none()
    if email:
        methods = methods | ContactMethod.objects.filter(kind=ContactMethodKind.EMAIL, normalized=email)
    if phone:
        methods = methods | ContactMethod.objects.filter(kind=ContactMethodKind.PHONE, normalized=phone)
    hits = list(methods.select_related("contact").order_by("kind", "contact_id")[:5])
    hits.sort(key=lambda m: (m.kind != ContactMethodKind.EMAIL, m.contact_id))  # an email match first
    return hits[0].contact if hits else None


@transaction.atomic
def identify(visitor: Visitor, *, name: str = "", email: str = "", phone: str = "") -> Contact | None:
    """Link the visitor (and its chats) to the contact with this email or phone; create the contact (as the
    site's service user) when there is none. Returns the contact, or None when nothing could be linked."""
    if not (email or phone):
        return None
    contact = find_contact(email, phone)
    site = visitor.site
    if contact is None and site.service_user_id and site.service_user.can_edit:
        data: dict[str, Any] = {"name": name or email or phone}
        if email:
            data["emails"] = [email]
        if phone:
            data["phones"] = [phone]
        contact = customer_services.create_contact(site.service_user, data)
    if contact is None:
        return None
    return link_contact(visitor, contact)


def link_contact(visitor: Visitor, contact: Contact) -> Contact:
    """The visitor is this contact: their browsing and their chats not yet linked join the contact's timeline."""
    if visitor.contact_id != contact.pk:
        visitor.contact = contact
        visitor.save(update_fields=["contact"])
    ChatConversation.objects.filter(visitor=visitor, contact__isnull=True).update(contact=contact)
    return contact
