"""First-run set-up: the administrator account."""

from __future__ import annotations

import secrets

from .models import Role, User


def ensure_admin(username: str = "admin", password: str | None = None) -> tuple[str, str, bool]:
    """Create the administrator if missing; returns (username, password, created)."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return username, "", False
    password = password or secrets.token_urlsafe(9)
    user = User(username=username, role=Role.ADMIN, is_staff=True, is_superuser=True,
                first_name="管理员", email=f"{username}@example.com")
    user.set_password(password)
    user.save()
    return username, password, True
