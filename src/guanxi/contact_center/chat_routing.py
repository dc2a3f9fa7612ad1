"""WebSocket routes of the chat: visitors by their site's public key and visitor key, agents by their session."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import SessionMiddlewareStack
from django.urls import path

from .chat_consumers import AgentConsumer, VisitorConsumer

websocket_urlpatterns = [
    # The site's allowed origins are checked by the consumer (a company's website is not one of our hosts). The
    # session is read only for our own portal's pages, whose signed-in customer identifies the visitor.
    path("ws/cc/visitor/<str:site_key>/", SessionMiddlewareStack(VisitorConsumer.as_asgi())),
    # The session cookie signs the agent in; only pages of our own hosts may open it.
    path("ws/cc/agent/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
]
