"""The demo has a portal customer who can log in and sees their company's tickets."""

import pytest
from django.urls import reverse

from guanxi.core import demo
from guanxi.portal.demo import DEMO_PORTAL_EMAIL


@pytest.mark.django_db
def test_the_demo_customer_logs_in_to_the_portal_and_sees_tickets(client):
    assert demo.load(300, seed=3).created
    response = client.post(reverse("portal:login"), {"email": DEMO_PORTAL_EMAIL, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    assert "data-ticket=" in client.get(reverse("portal:home")).content.decode()
