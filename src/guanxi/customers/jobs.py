"""Customers' once-a-minute sweep handlers (core/sweep.py imports this module): the public pool's
warnings to owners and the return of accounts nobody followed up."""

from __future__ import annotations

from guanxi.core import sweep

from . import pool_services

sweep.register("customers.pool_warn")(pool_services.warn_upcoming)
sweep.register("customers.pool_return")(pool_services.return_overdue)
