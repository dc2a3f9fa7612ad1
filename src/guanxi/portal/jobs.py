"""Sweep handlers (core.sweep, once a minute): reply notices the mail server refused are sent again."""

from __future__ import annotations

import datetime as dt

from guanxi.core import sweep

from . import notices


@sweep.register("portal.reply_notices")
def retry_reply_notices(now: dt.datetime) -> int:
    """E-mails telling portal customers of an agent's reply that did not leave: sent again (notices.retry_notices)."""
    return notices.retry_notices(now)
