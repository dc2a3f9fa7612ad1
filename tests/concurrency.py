"""Running the same action from several threads at once, each on its own database connection (as two requests
would), for the tests that check row locking."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import OperationalError, connection


def _retrying(action: Callable[[], str], outcomes: list[str], barrier: threading.Barrier) -> None:
    try:
        barrier.wait(timeout=10)
        for _attempt in range(200):
            try:
                outcomes.append(action())
            except OperationalError as exc:
                # SQLite's in-memory test database (shared cache) refuses a second writer at BEGIN instead of
                # waiting like a file database does; the user would send the request again.
                if "locked" not in str(exc):
                    raise
                time.sleep(0.01)
                continue
            break
    finally:
        connection.close()


def at_once(*actions: Callable[[], str]) -> list[str]:
    """Start every action together (one thread each) and return what each returned, sorted."""
    outcomes: list[str] = []
    barrier = threading.Barrier(len(actions))
    threads = [threading.Thread(target=_retrying, args=(action, outcomes, barrier)) for action in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(outcomes)
