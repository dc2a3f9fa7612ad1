import re

from guanxi.core.models import ApiToken
from guanxi.core.services import user_for_token


def test_a_user_issues_uses_and_revokes_a_token(users, login, client):
    client = login(users["rep_a"])
    response = client.post("/settings/tokens/", {"name": "ERP 同步"})
    assert response.status_code == 200
    secret = re.search(r"gx_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    assert user_for_token(secret) == users["rep_a"]
    assert client.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    # The secret is not shown again, and only its digest is stored.
    assert secret not in client.get("/settings/tokens/").content.decode()
    assert not ApiToken.objects.filter(digest=secret).exists()
    token = ApiToken.objects.get(user=users["rep_a"])
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert user_for_token(secret) is None


def test_a_token_needs_a_name(users, login):
    response = login(users["rep_a"]).post("/settings/tokens/", {"name": "  "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token(users, login, client):
    login(users["rep_b"]).post("/settings/tokens/", {"name": "mine"})
    token = ApiToken.objects.get(user=users["rep_b"])
    client.logout()
    assert login(users["rep_a"]).post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()
