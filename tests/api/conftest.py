import json

import pytest
from django.test import Client

from guanxi.core.services import issue_token


class ApiClient:
    """A Django test client that talks JSON with a bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _send(self, method: str, path: str, body=None, **params):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        call = getattr(self.client, method)
        if method in ("get", "delete") and body is None:
            return call(url, params or None, headers=self.headers)
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return call(url, data, content_type="application/json", headers=self.headers)

    def get(self, path, params=None):
        return self.client.get(path if path.startswith("/") else f"/api/v1/{path}", params or {}, headers=self.headers)

    def post(self, path, body=None):
        return self._send("post", path, body)

    def patch(self, path, body=None):
        return self._send("patch", path, body)

    def put(self, path, body=None):
        return self._send("put", path, body)

    def delete(self, path):
        return self._send("delete", path)


@pytest.fixture
def api(users):
    """api["rep_a"].get("accounts") — a client per test user, each with its own token."""
    return {name: ApiClient(issue_token(user)) for name, user in users.items()}

