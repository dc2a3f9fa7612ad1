"""Fetch a mailbox's new messages over IMAP (imaplib) and hand them, BATCH at a time, to the idempotent ingest.

New mail is `UID SEARCH UID <last_uid+1>:*`; when the server's UIDVALIDITY changed (folder re-created, server
moved) the UIDs mean nothing any more, so the whole folder is read again — the ingest's unique
(mailbox, message_id) makes that re-sync add only what is missing. Reconcile reads the last N days the same way.
An unreachable or refusing server is recorded on the mailbox (last_error), never raised to the scheduler.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.fileio.textio import human_size

from .email_ingest import ingest_many, quarantine
from .email_models import Mailbox, Security

logger = logging.getLogger(__name__)
BATCH = 50
IMAP_TIMEOUT = 30


class SyncError(Exception):
    pass


@dataclass
class SyncResult:
    fetched: int = 0
    created: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    resynced: bool = False
    error: str = ""


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.imap_security == Security.SSL:
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(mailbox.imap_host, mailbox.imap_port,
                                                ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT)
    else:
        conn = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT)
        if mailbox.imap_security == Security.STARTTLS:
            conn.starttls(ssl.create_default_context())
    conn.login(mailbox.imap_user, mailbox.imap_password)
    return conn


def _ok(response: tuple) -> list:
    status, data = response
    if status != "OK":
        raise SyncError(" ".join(d.decode(errors="replace") if isinstance(d, bytes) else str(d) for d in data))
    return data


def _select(conn: imaplib.IMAP4, folder: str) -> int:
    _ok(conn.select(_quote(folder), readonly=True))
    values = conn.response("UIDVALIDITY")[1]
    if not values or values[0] is None:
        raise SyncError("the server gave no UIDVALIDITY")
    return int(values[0])


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uids(conn: imaplib.IMAP4, after: int, since: dt.date | None) -> list[int]:
    if since is not None:
        data = _ok(conn.uid("SEARCH", None, "SINCE", since.strftime("%d-%b-%Y")))
    else:
        data = _ok(conn.uid("SEARCH", None, "UID", f"{after + 1}:*"))
    uids = sorted(int(u) for u in (data[0] or b"").split())
    return [u for u in uids if u > after] if since is None else uids


def _fetch(conn: imaplib.IMAP4, uids: list[int], part: str = "BODY.PEEK[]") -> list[tuple[int, bytes]]:
    data = _ok(conn.uid("FETCH", ",".join(map(str, uids)), f"(UID {part})"))
    out = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = re.search(rb"UID (\d+)", item[0])
            if match:
                out.append((int(match.group(1)), item[1]))
    return out


def _sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    data = _ok(conn.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)"))
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        uid, size = re.search(rb"UID (\d+)", line or b""), re.search(rb"RFC822\.SIZE (\d+)", line or b"")
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _batch(conn: imaplib.IMAP4, mailbox: Mailbox, uids: list[int]) -> list[tuple[int, bytes, str]]:
    """(uid, bytes, why refused): a message over the size cap is not downloaded — only its header, to quarantine
    it with the reason; it stays on the server."""
    limit = settings.EMAIL_MESSAGE_MAX_BYTES
    sizes = _sizes(conn, uids)
    small = [u for u in uids if sizes.get(u, 0) <= limit]
    large = [u for u in uids if sizes.get(u, 0) > limit]
    out = [(uid, raw, "") for uid, raw in (_fetch(conn, small) if small else [])]
    for uid, head in _fetch(conn, large, "BODY.PEEK[HEADER]") if large else []:
        out.append((uid, head, _("The message (%(size)s) is larger than the %(limit)s limit; it was left on the "
                                 "server.") % {"size": human_size(sizes[uid]), "limit": human_size(limit)}))
    return sorted(out)


def sync(mailbox: Mailbox, since_days: int | None = None, now: dt.datetime | None = None) -> SyncResult:
    """Poll once (or, with `since_days`, reconcile that many days). Records success or the error on the mailbox."""
    now = now or timezone.now()
    result = SyncResult()
    try:
        conn = connect(mailbox)
        try:
            validity = _select(conn, mailbox.imap_folder)
            after = mailbox.last_uid
            if mailbox.uidvalidity != validity:
                result.resynced = mailbox.uidvalidity is not None
                after = 0
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=validity, last_uid=0)
                mailbox.uidvalidity, mailbox.last_uid = validity, 0
            since = (now - dt.timedelta(days=since_days)).date() if since_days else None
            uids = _uids(conn, after, since)
            for start in range(0, len(uids), BATCH):
                fetched = _batch(conn, mailbox, uids[start:start + BATCH])
                done = [quarantine(mailbox, raw, uid, refused) for uid, raw, refused in fetched if refused]
                done += ingest_many(mailbox, [(raw, uid) for uid, raw, refused in fetched if not refused], now)
                for row, created in done:
                    result.fetched += 1
                    if created:
                        result.created += 1
                        result.statuses[row.status] = result.statuses.get(row.status, 0) + 1
                if fetched:  # after the batch's messages are stored: a crash before this reads them again (no harm)
                    Mailbox.objects.filter(pk=mailbox.pk, uidvalidity=validity).update(
                        last_uid=Greatest(F("last_uid"), max(uid for uid, _raw, _refused in fetched)))
        finally:
            try:
                conn.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
    except (OSError, imaplib.IMAP4.error, SyncError, ValueError) as exc:
        result.error = f"{exc.__class__.__name__}: {exc}"[:1000] or exc.__class__.__name__
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=result.error, last_error_at=now)
        logger.warning("mailbox %s: %s", mailbox.pk, result.error)
        return result
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=now)
    mailbox.refresh_from_db()
    return result
