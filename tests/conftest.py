import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from guanxi.core.models import Role, Team
from guanxi.core.services import create_user
from guanxi.customers import services

# `.ci/run` runs the suite once per database, side by side on the machine's two cores, and must finish in under
# 20 minutes. Tests whose result cannot depend on the database run once, in the SQLite run: those that use no
# database (pytest-django blocks it for a test without the django_db mark or a database fixture, so such a test
# could not have touched it) and the browser tests (`e2e`: every database path they go through is tested on both
# databases by the view and API tests). GUANXI_TEST_DATABASE_ONLY=1, which `.ci/run` gives the PostgreSQL run
# (the slower: a round trip per query), keeps only the others. Unset (`make test`): everything.
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                     "live_server"}


def _database_independent(item) -> bool:
    if item.get_closest_marker("e2e") is not None:
        return True
    return item.get_closest_marker("django_db") is None and not DATABASE_FIXTURES & set(item.fixturenames)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GUANXI_TEST_DATABASE_ONLY") != "1":
        return
    independent = [item for item in items if _database_independent(item)]
    if independent:
        config.hook.pytest_deselected(items=independent)
        items[:] = [item for item in items if not _database_independent(item)]


# The property tests run beside other suites on 2 cores: a slow example is the machine, not a failure.
hypothesis_settings.register_profile("guanxi", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("guanxi")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow on purpose (a second a hash on a busy machine) and most tests make six users: tests hash
    with MD5. Hashes made before (Argon2) still verify; production's hasher is checked in core/test_settings."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture
def teams(db):
    """Two sales teams under one company team, as in most small firms."""
    company = Team.objects.create(name="公司")
    a = Team.objects.create(name="华北销售", parent=company)
    b = Team.objects.create(name="华南销售", parent=company)
    return {"company": company, "a": a, "b": b}


@pytest.fixture
def users(teams):
    def make(username, role, team):
        return create_user(None, username=username, password="correct-horse-9", role=role, team=team)

    return {
        "admin": make("admin", Role.ADMIN, teams["company"]),
        "manager_a": make("manager_a", Role.SALES_MANAGER, teams["a"]),
        "rep_a": make("rep_a", Role.SALES_REP, teams["a"]),
        "rep_a2": make("rep_a2", Role.SALES_REP, teams["a"]),
        "rep_b": make("rep_b", Role.SALES_REP, teams["b"]),
        "viewer": make("viewer", Role.READ_ONLY, teams["a"]),
    }


@pytest.fixture
def zhang(users):
    """rep_a's account 北京星辰医疗科技有限公司 with 张伟 as its contact, made by the services."""
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "北京星辰医疗科技有限公司", "classification": "A",
                                            "industry": "healthcare"})
    contact = services.create_contact(rep, {"name": "张伟", "title": "采购经理", "account_ids": [account.pk],
                                            "phones": ["138 0013 8000"], "emails": ["Zhang.Wei@Xingchen.CN"]})
    return account, contact


@pytest.fixture
def english(settings):
    """For tests that read messages, pages and mails in English (the catalogue also ships them in Chinese)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite database migrated by the real `guanxi migrate`, once a run. Tests that start `guanxi` processes
    on a fresh home copy it (`sqlite_home`) instead of migrating from scratch (~15 s of CPU each)."""
    home = tmp_path_factory.mktemp("migrated-sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env.update(GUANXI_HOME=str(home), GUANXI_REDIS_URL="")
    subprocess.run([sys.executable, "-m", "guanxi.cli", "migrate", "--verbosity", "0"], env=env, check=True,
                   capture_output=True, timeout=300)
    return home / "guanxi.sqlite3"


@pytest.fixture(scope="session")
def sqlite_home(migrated_sqlite):
    """`sqlite_home(path)`: `path` becomes a data directory holding a copy of the migrated database (copied with
    SQLite's backup, so nothing left in its write-ahead log is lost)."""
    def make(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(migrated_sqlite) as source, sqlite3.connect(path / "guanxi.sqlite3") as target:
            source.backup(target)
        return path

    return make
