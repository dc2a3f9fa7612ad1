import pytest
from channels.layers import channel_layers
from django.core.cache import cache

from guanxi.contact_center.chat_models import ChatSite
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service.models import AgentProfile, Availability

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
def site(users):
    return ChatSite.objects.create(name="星辰商城", allowed_origins=[ORIGIN], service_user=users["admin"])
