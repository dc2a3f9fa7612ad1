"""Push instead of the minute poll: an IMAP IDLE connection per active mailbox that uses IDLE (a thread each),
syncing as soon as the server says a message exists (RFC 2177). `guanxi serve` runs the watchers in a background
thread (`Watchers`) when it runs the embedded worker; `guanxi mail-idle` runs them on their own.

The IDLE connection only listens; each sync is the ordinary `email_imap.sync` on a connection of its own, so
what it stores is exactly what the poll would have stored. IDLE is issued again every RENEW seconds (servers
drop an IDLE after 30 minutes). A server without IDLE is polled every POLL seconds; a connection that fails or
drops is recorded on the mailbox (its health page shows it) and retried after a growing pause, polling in
between. The minute sweep keeps polling too: IDLE only makes new mail arrive sooner.
"""

from __future__ import annotations

import imaplib
import logging
import re
import select
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone

from .email_imap import SyncError, _select, connect, sync
from .email_models import IdleState, Mailbox

logger = logging.getLogger(__name__)
RENEW = 25 * 60
POLL = 60
BACKOFF = (5, 300)  # first pause after a failure, longest pause
EXISTS = re.compile(rb"^\* \d+ EXISTS")


def _state(mailbox_id: int, state: str, error: str = "") -> None:
    now = timezone.now()
    fields = {"idle_state": state, "idle_state_at": now}
    if error:
        fields.update(last_error=error[:1000], last_error_at=now)
    Mailbox.objects.filter(pk=mailbox_id).update(**fields)


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    """What the server offers once logged in (some announce IDLE only then; the greeting's list may differ)."""
    status, data = conn.capability()
    return set((data[-1] or b"").decode(errors="replace").upper().split()) if status == "OK" else set()


class IdleWatcher(threading.Thread):
    """Watches one mailbox until `stop` is set (or the mailbox is made inactive or deleted)."""

    def __init__(self, mailbox_id: int, stop: threading.Event | None = None, *, renew: float = RENEW,
                 poll: float = POLL, backoff: tuple[float, float] = BACKOFF) -> None:
        super().__init__(name=f"mail-idle-{mailbox_id}", daemon=True)
        self.mailbox_id, self.stop = mailbox_id, stop or threading.Event()
        self.renew, self.poll, self.backoff = renew, poll, backoff
        # What it is doing, for whoever supervises it (and tests, which wait on `progress` instead of the database).
        self.progress = threading.Condition()
        self.state, self.created, self.failures = "", 0, 0

    def _report(self, state: str | None = None, created: int = 0, failed: bool = False) -> None:
        with self.progress:
            self.state = state if state is not None else self.state
            self.created += created
            self.failures += int(failed)
            self.progress.notify_all()

    def wait_until(self, predicate, timeout: float) -> bool:
        with self.progress:
            return self.progress.wait_for(lambda: predicate(self), timeout)

    def _sync(self, mailbox: Mailbox) -> None:
        self._report(created=sync(mailbox).created)

    def run(self) -> None:
        try:
            self.watch()
        except Exception:  # a bug must not end the watching silently: log it; the supervisor restarts us
            logger.exception("mail-idle: mailbox %s", self.mailbox_id)
        finally:
            Mailbox.objects.filter(pk=self.mailbox_id).update(idle_state="", idle_state_at=timezone.now())
            connection.close()
            self._report("")

    def _mailbox(self) -> Mailbox | None:
        close_old_connections()
        return Mailbox.objects.filter(pk=self.mailbox_id, active=True, use_idle=True).first()

    def watch(self) -> None:
        pause = 0.0
        while not self.stop.is_set():
            mailbox = self._mailbox()
            if mailbox is None:
                return
            self._sync(mailbox)  # catch up (and poll, when IDLE is not possible)
            try:
                conn = connect(mailbox)
            except (OSError, imaplib.IMAP4.error) as exc:
                pause = self._failed(exc, pause)
                continue
            try:
                if "IDLE" not in _capabilities(conn):
                    _state(self.mailbox_id, IdleState.POLLING)
                    self._report(IdleState.POLLING)
                    self.stop.wait(self.poll)
                    continue
                _select(conn, mailbox.imap_folder)
                conn.file = conn.sock.makefile("rb", buffering=0)  # see _lines: nothing may sit in a buffer
                _state(self.mailbox_id, IdleState.IDLE)
                self._report(IdleState.IDLE)
                pause = 0.0
                while not self.stop.is_set():
                    if self._idle(conn) and not self.stop.is_set():
                        self._sync(mailbox)
            except (OSError, imaplib.IMAP4.error, SyncError, ValueError) as exc:
                pause = self._failed(exc, pause)
            finally:
                try:
                    conn.shutdown()
                except (OSError, imaplib.IMAP4.error):
                    pass

    def _failed(self, exc: Exception, pause: float) -> float:
        error = f"IDLE: {exc.__class__.__name__}: {exc}"
        logger.warning("mailbox %s: %s", self.mailbox_id, error)
        _state(self.mailbox_id, IdleState.RETRYING, error)
        self._report(IdleState.RETRYING, failed=True)
        pause = min(max(pause * 2, self.backoff[0]), self.backoff[1])
        self.stop.wait(pause)
        return pause

    def _lines(self, conn: imaplib.IMAP4, until: float):
        """The server's lines while it idles, until `until` or stop. The socket is read unbuffered, so waiting
        on it with select() never misses a line that already arrived."""
        while not self.stop.is_set() and time.monotonic() < until:
            pending = getattr(conn.sock, "pending", lambda: 0)()
            if not pending and not select.select([conn.sock], [], [], 1.0)[0]:
                continue
            line = conn.readline()
            if not line:
                raise OSError("the server closed the connection")
            yield line

    def _idle(self, conn: imaplib.IMAP4) -> bool:
        """One IDLE: True when the server reported a new message, False at renewal time or stop."""
        tag = conn._new_tag()
        conn.send(tag + b" IDLE\r\n")
        while not (line := conn.readline()).startswith(b"+"):
            if not line or line.startswith(tag):
                raise SyncError(f"IDLE refused: {line.decode(errors='replace').strip()}")
        exists = False
        for line in self._lines(conn, time.monotonic() + self.renew):
            if line.startswith(b"* BYE"):
                raise OSError(line.decode(errors="replace").strip())
            if EXISTS.match(line):
                exists = True
                break
        conn.send(b"DONE\r\n")
        while not (line := conn.readline()).startswith(tag):
            if not line:
                raise OSError("the server closed the connection")
        if not line.split()[1:2] == [b"OK"]:
            raise SyncError(line.decode(errors="replace").strip())
        return exists


def run(stop: threading.Event, rescan: float = 60.0, watchers: dict[int, IdleWatcher] | None = None) -> None:
    """Watch every active mailbox that uses IDLE until `stop`: a new or re-activated mailbox gets a watcher within
    `rescan` seconds, a deactivated one loses it, a watcher that ended (a crash) is started again. `watchers`, when
    given, is kept up to date (mailbox id → its watcher) for whoever supervises."""
    watchers = {} if watchers is None else watchers
    try:
        while not stop.is_set():
            close_old_connections()
            active = set(Mailbox.objects.filter(active=True, use_idle=True).values_list("pk", flat=True))
            for pk in active:
                if pk not in watchers or not watchers[pk].is_alive():
                    watchers[pk] = IdleWatcher(pk, threading.Event())
                    watchers[pk].start()
            for pk in set(watchers) - active:
                watchers.pop(pk).stop.set()
            stop.wait(rescan)
    finally:
        for watcher in watchers.values():
            watcher.stop.set()
        for watcher in watchers.values():
            watcher.join(timeout=10)
        connection.close()


class Watchers(threading.Thread):
    """`run` in a background thread, as `guanxi serve` runs it beside the web server: it ends (each watcher logged
    out, its mailbox marked not watched) once `stop` is set; join it to wait for that."""

    def __init__(self, stop: threading.Event, rescan: float = 60.0) -> None:
        super().__init__(name="mail-idle", daemon=True)
        self.stop, self.rescan = stop, rescan
        self.watchers: dict[int, IdleWatcher] = {}

    def run(self) -> None:
        try:
            run(self.stop, self.rescan, self.watchers)
        except Exception:  # the database went away at start, say: serve goes on; the minute poll still reads mail
            logger.exception("mail-idle stopped")
