"""Public pool (公海) latency on a demo database: the pool list (UI, API first and deep page), a rep's
account list (visible_to now admits the pool's unowned accounts too, an OR on the owner), and the two
sweep handlers over every owned account's deadline.

    GUANXI_HOME=/tmp/x guanxi demo --size 100000 --no-serve
    GUANXI_HOME=/tmp/x flock /tmp/guanxi-bench.lock python -m bench.pool

Prints one JSON object. The sweep is measured inside a transaction that is rolled back, so the database
is left as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

from django.db import transaction
from django.test import Client
from django.utils import timezone

from bench.server_time import deep_urls, measure  # sets up Django
from guanxi.core.models import Role, User
from guanxi.core.services import issue_token
from guanxi.customers import pool_services
from guanxi.customers.models import Account


def main() -> None:
    client = Client()
    rep = User.objects.filter(role=Role.SALES_REP).first()
    client.force_login(rep)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(rep, 'bench')}"}
    results: dict[str, object] = {
        "accounts": Account.objects.count(),
        "in pool": Account.objects.filter(owner__isnull=True).count(),
        "rep owns": Account.objects.filter(owner=rep).count(),
    }
    results["rep pool page 1 (UI)"] = measure(client, ["/pool/"])
    results["rep pool API page 1"] = measure(client, ["/api/v1/pool?limit=50"], **auth)
    results["rep pool API by classification+province"] = measure(
        client, ["/api/v1/pool?limit=50&classification=B&province=广东"], **auth
    )
    deep = deep_urls(client, "/api/v1/pool?limit=200&sort=name", 10, **auth)
    results["rep pool API deep page (by name)"] = measure(client, deep, **auth)
    results["rep accounts list page 1 (UI)"] = measure(client, ["/accounts/"])
    results["rep accounts API by name"] = measure(client, ["/api/v1/accounts?limit=50&sort=name"], **auth)
    now = timezone.now()
    for name, fn, at in (
        ("sweep warn_upcoming (one batch)", pool_services.warn_upcoming, now),
        ("sweep return_overdue (one batch)", pool_services.return_overdue, now),
        ("sweep return_overdue, nothing due", pool_services.return_overdue, now - dt.timedelta(days=3650)),
    ):
        with transaction.atomic():
            start = time.perf_counter()
            count = fn(at)
            results[name] = {"ms": round((time.perf_counter() - start) * 1000, 1), "accounts": count}
            transaction.set_rollback(True)
    json.dump(results, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
