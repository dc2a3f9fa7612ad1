"""Security settings in production, read the way the server reads them: from the environment."""

import os
import subprocess
import sys

PROBE = ("import django.conf as c, os; os.environ['DJANGO_SETTINGS_MODULE']='guanxi.settings'; "
         "s=c.settings; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
         "s.PASSWORD_HASHERS[0].rsplit('.',1)[1], s.DEBUG)")


def run(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    return subprocess.run([sys.executable, "-c", PROBE], env=clean | env, capture_output=True, text=True)


def test_production_refuses_to_start_without_a_secret_key():
    result = run({"GUANXI_ENV": "production"})
    assert result.returncode != 0
    assert "GUANXI_SECRET_KEY must be set" in result.stderr


def test_production_cookies_are_secure_and_passwords_argon2():
    result = run({"GUANXI_ENV": "production", "GUANXI_SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "31536000", "Argon2PasswordHasher", "False"]
