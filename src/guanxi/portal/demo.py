"""A demo customer for the portal: a log-in for a contact of a demo company that has tickets."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from guanxi.customers.models import Contact
from guanxi.service.ticket_models import Ticket

from .models import PortalUser

DEMO_PORTAL_EMAIL = "customer@example.com"


def create_demo_portal(password: str) -> PortalUser | None:
    """The portal user DEMO_PORTAL_EMAIL (if missing) for a contact of the first demo company with tickets."""
    existing = PortalUser.objects.filter(email=DEMO_PORTAL_EMAIL).first()
    if existing is not None:
        return existing
    ticket = Ticket.objects.filter(account__isnull=False).order_by("pk").first()
    contact = Contact.objects.filter(accounts=ticket.account).order_by("pk").first() if ticket else None
    if contact is None:
        return None
    return PortalUser.objects.create(email=DEMO_PORTAL_EMAIL, name=contact.name, company=ticket.account.name,
                                     password=make_password(password), contact=contact, verified_at=timezone.now())
