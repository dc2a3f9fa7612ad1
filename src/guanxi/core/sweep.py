"""The once-a-minute sweep: deadlines kept as `due_at` columns are acted on here, not by deferred tasks.

Apps register handlers in their `jobs` module (imported before each sweep):

    @sweep.register("service.sla")
    def breach_slas(now): ...          # act on rows with due_at <= now; return a count (optional)

`run_sweep(now)` claims the minute through a unique SweepRun row, so however many workers run the
scheduler, each minute is swept once; a handler that raises is logged and recorded, and the others
still run. Handlers must be idempotent (a minute missed while no worker ran is not replayed, so
they select everything due up to `now`, not just this minute's items).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .models import SweepRun

logger = logging.getLogger(__name__)

Handler = Callable[[datetime], Any]
_handlers: dict[str, Handler] = {}
_discovered = False


def register(name: str) -> Callable[[Handler], Handler]:
    """Decorator: run `fn(now)` on every minute's sweep under `name` (re-registering replaces it)."""

    def decorator(fn: Handler) -> Handler:
        _handlers[name] = fn
        return fn

    return decorator


def unregister(name: str) -> None:
    _handlers.pop(name, None)


def handlers() -> dict[str, Handler]:
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")  # every installed app's jobs.py registers its handlers on import
        _discovered = True
    return dict(_handlers)


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, int | float | str | bool | type(None)) else str(value)


def run_sweep(now: datetime | None = None) -> SweepRun | None:
    """Sweep the minute `now` falls in; None if another worker has claimed that minute already."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    try:
        with transaction.atomic():
            run = SweepRun.objects.create(minute=minute)
    except IntegrityError:
        return None
    outcome: dict[str, dict[str, Any]] = {}
    for name, fn in handlers().items():
        try:
            with transaction.atomic():
                result = fn(now)
            outcome[name] = {"ok": True, "result": _jsonable(result)}
        except Exception as exc:
            logger.exception("sweep handler %s failed at %s", name, minute.isoformat())
            outcome[name] = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:500]}
    run.handled = outcome
    run.finished_at = timezone.now()
    run.save(update_fields=["handled", "finished_at"])
    return run


def prune(now: datetime, keep: timedelta = timedelta(days=7)) -> int:
    """Forget sweeps older than `keep` (one row a minute is 10,080 rows a week)."""
    deleted, _rows = SweepRun.objects.filter(minute__lt=now - keep).delete()
    return deleted


register("core.prune_sweeps")(prune)


def run_forever(stop: threading.Event) -> None:
    """The scheduler: sweep now, then at the start of every minute, until `stop` is set."""
    while not stop.is_set():
        try:
            close_old_connections()
            run_sweep(timezone.now())
        except Exception:  # the database is down, say; try again next minute
            logger.exception("sweep failed")
        finally:
            connections.close_all()
        now = timezone.now()
        next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        stop.wait((next_minute - now).total_seconds() + 0.05)
