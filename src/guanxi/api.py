"""The REST API: /api/v1/, one NinjaAPI with a router per app. See docs/api.md."""

from ninja import NinjaAPI

api = NinjaAPI(title="Guanxi API", version="1", urls_namespace="api")
