"""Push: `guanxi mail-idle`'s watcher holds an IMAP IDLE connection to the real Dovecot and ingests a message as
soon as it is appended — nobody calls the poll. A server it cannot reach is recorded on the mailbox and retried.

The test waits on the watcher's progress (a condition), not on the database: SQLite's shared in-memory test
database does not take readers and a writer in two threads at once."""

from __future__ import annotations

import threading

import pytest

from guanxi.contact_center.email_idle import IdleWatcher
from guanxi.contact_center.email_models import IdleState, InboundEmail, Mailbox
from guanxi.service.ticket_models import Ticket
from tests.contact_center.mailservers import dovecot_binary, free_port, running_dovecot
from tests.contact_center.test_email_ingest import make_mail

DEADLINE = 60  # generous: the machine is shared; the test waits on conditions, it measures nothing


@pytest.fixture
def watch():
    started: list[IdleWatcher] = []

    def start(mailbox, **kwargs) -> IdleWatcher:
        watcher = IdleWatcher(mailbox.pk, threading.Event(), **kwargs)
        watcher.start()
        started.append(watcher)
        return watcher

    def stop(watcher: IdleWatcher) -> None:
        watcher.stop.set()
        watcher.join(timeout=30)
        assert not watcher.is_alive()

    start.stop = stop
    yield start
    for watcher in started:
        stop(watcher)


def wait(watcher: IdleWatcher, predicate, what: str) -> None:
    assert watcher.wait_until(predicate, DEADLINE), f"gave up waiting: {what} (state {watcher.state!r})"


@pytest.mark.django_db(transaction=True)
def test_a_message_appended_while_idling_is_ingested_without_a_poll(mailbox, dovecot, watch):
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<before@mx>", subject="之前的邮件"))
    watcher = watch(mailbox)
    wait(watcher, lambda w: w.state == IdleState.IDLE, "the watcher idles")
    assert watcher.created == 1  # caught up before idling
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<pushed@mx>", subject="推送的邮件"))
    wait(watcher, lambda w: w.created == 2, "the pushed mail is ingested")
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<second@mx>", subject="第二封"))
    wait(watcher, lambda w: w.created == 3, "IDLE was issued again and the next mail came too")
    assert Mailbox.objects.get(pk=mailbox.pk).idle_state == IdleState.IDLE
    watch.stop(watcher)
    assert set(InboundEmail.objects.values_list("message_id", flat=True)) == {"before@mx", "pushed@mx", "second@mx"}
    assert Ticket.objects.filter(subject="推送的邮件", channel="email").count() == 1
    after = Mailbox.objects.get(pk=mailbox.pk)
    assert after.last_uid == 3 and after.idle_state == ""  # not watched any more


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_server_is_shown_on_the_mailbox_and_retried(mailbox, dovecot, watch):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())  # nothing listens there
    watcher = watch(mailbox, backoff=(0.1, 0.3))
    wait(watcher, lambda w: w.failures >= 3, "it keeps retrying")
    assert watcher.state == IdleState.RETRYING
    watch.stop(watcher)
    failing = Mailbox.objects.get(pk=mailbox.pk)
    assert failing.failing and failing.last_error.startswith("IDLE: ConnectionRefusedError")
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=dovecot.port)  # the server is back
    watcher = watch(mailbox)
    wait(watcher, lambda w: w.state == IdleState.IDLE, "the watcher connects")
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<after-outage@mx>"))
    wait(watcher, lambda w: w.created == 1, "mail flows again")
    watch.stop(watcher)
    assert not Mailbox.objects.get(pk=mailbox.pk).failing


@pytest.mark.django_db(transaction=True)
def test_a_server_without_idle_is_polled(mailbox, watch):
    no_idle = "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+\n"
    with running_dovecot(dovecot_binary(), no_idle) as server:
        folder = server.new_folder()
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=server.port, imap_folder=folder)
        watcher = watch(mailbox, poll=0.3)
        wait(watcher, lambda w: w.state == IdleState.POLLING, "the watcher falls back to polling")
        server.append(folder, make_mail(message_id="<polled@mx>"))
        wait(watcher, lambda w: w.created == 1, "the poll reads the new mail")
        watch.stop(watcher)
    assert InboundEmail.objects.get().message_id == "polled@mx"


@pytest.mark.django_db(transaction=True)
def test_the_serve_thread_watches_the_mailboxes_that_use_idle_and_stops_cleanly(mailbox, dovecot, users):
    """What `guanxi serve` starts beside the web server: one watcher per active mailbox with push on; setting the
    stop event ends them all, each mailbox marked not watched."""
    from guanxi.contact_center import email_services
    from guanxi.contact_center.email_idle import Watchers

    polled_only = email_services.create_mailbox(users["admin"], {
        "name": "销售", "address": "sales@guanxi.test", "imap_host": dovecot.host, "imap_port": dovecot.port,
        "imap_security": "none", "imap_user": dovecot.user, "imap_password": dovecot.password,
        "imap_folder": dovecot.new_folder(), "smtp_host": "", "use_idle": False, "auto_acknowledge": False})
    stop = threading.Event()
    thread = Watchers(stop, rescan=0.2)
    thread.start()
    try:
        for _ in range(DEADLINE * 10):
            if mailbox.pk in thread.watchers:
                break
            stop.wait(0.1)
        watcher = thread.watchers[mailbox.pk]
        wait(watcher, lambda w: w.state == IdleState.IDLE, "the watcher idles")
        dovecot.append(mailbox.imap_folder, make_mail(message_id="<served@mx>", subject="服务中的推送"))
        wait(watcher, lambda w: w.created == 1, "the pushed mail is ingested")
        assert set(thread.watchers) == {mailbox.pk}  # push off: left to the minute poll
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive() and not any(w.is_alive() for w in thread.watchers.values())
    assert InboundEmail.objects.get().message_id == "served@mx"
    assert [m.idle_state for m in Mailbox.objects.filter(pk__in=[mailbox.pk, polled_only.pk])] == ["", ""]


def test_guanxi_serve_reads_pushed_mail_within_seconds(dovecot, tmp_path, sqlite_home):
    """The real command: `guanxi serve` on a fresh SQLite home with a mailbox on the test Dovecot. Once its watcher
    idles, an appended message is stored within a few seconds (the minute poll would take up to a minute), and
    SIGTERM stops everything cleanly, the mailbox marked not watched."""
    import os
    import subprocess
    import time

    from tests.core.test_cli import GUANXI, _get, _query, _stop, _wait_for

    env = {k: v for k, v in os.environ.items() if k != "GUANXI_DATABASE_URL"}  # SQLite in the temporary home
    env.update(GUANXI_HOME=str(tmp_path), GUANXI_REDIS_URL="")
    sqlite_home(tmp_path)  # migrated
    folder = dovecot.new_folder()
    code = ("from guanxi.contact_center.email_models import Mailbox; "
            f"m = Mailbox(name='客服', address='support@guanxi.test', imap_host={dovecot.host!r}, "
            f"imap_port={dovecot.port}, imap_security='none', imap_user={dovecot.user!r}, imap_folder={folder!r}, "
            "auto_acknowledge=False); "
            f"m.imap_password = {dovecot.password!r}; m.save()")
    subprocess.run([*GUANXI, "manage", "shell", "-c", code], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([*GUANXI, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: _get(port, "/"))  # the web server is up (a SIGTERM while granian starts is lost)
        _wait_for(lambda: _query(tmp_path, "SELECT idle_state FROM contact_center_mailbox") == [("idle",)])
        dovecot.append(folder, make_mail(message_id="<served@mx>", subject="推送"))
        appended = time.monotonic()
        _wait_for(lambda: _query(tmp_path, "SELECT status FROM contact_center_inboundemail "
                                           "WHERE message_id = 'served@mx'") == [("ticket",)], timeout=60)
        took = time.monotonic() - appended
    finally:
        status = _stop(server)
    output = server.stdout.read()
    assert status == 0, output
    assert "with the background worker and IMAP push (IDLE)" in output and "Traceback" not in output
    assert took < 10, f"{took:.1f} s: read by the minute poll, not pushed"
    assert _query(tmp_path, "SELECT idle_state FROM contact_center_mailbox") == [("",)]  # logged out on the way out
