"""Real mail servers for the email channel's tests: a private Dovecot (IMAP) for the session and an aiosmtpd
SMTP server per test. Each test gets its own IMAP folder and delivers messages into it by APPEND."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from guanxi.contact_center import email_services
from guanxi.service.models import QuestionGroup, Queue
from tests.api.conftest import fast_password_hashing  # noqa: F401 (autouse)
from tests.sales.quotes.test_quote_views import Inbox, _free_port

DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


free_port = _free_port


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def new_folder(self) -> str:
        name = f"t{uuid.uuid4().hex[:12]}"
        conn = self.client()
        assert conn.create(name)[0] == "OK"
        conn.logout()
        return name

    def append(self, folder: str, *raws: bytes) -> None:
        conn = self.client()
        for raw in raws:
            status, data = conn.append(folder, None, None, raw)
            assert status == "OK", data
        conn.logout()

    def recreate(self, folder: str) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        conn = self.client()
        conn.select(folder)
        old = int(conn.response("UIDVALIDITY")[1][0])
        conn.close()
        assert conn.delete(folder)[0] == "OK"
        for _attempt in range(30):  # Dovecot takes the clock's second as UIDVALIDITY
            assert conn.create(folder)[0] == "OK"
            conn.select(folder)
            if int(conn.response("UIDVALIDITY")[1][0]) != old:
                break
            conn.close()
            conn.delete(folder)
            time.sleep(0.2)
        conn.logout()


@pytest.fixture(scope="session")
def dovecot():
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        pytest.skip("dovecot is not installed: apt-get install -y dovecot-imapd (see .ci/run)")
    root = tempfile.mkdtemp(prefix="guanxi-dovecot-")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:  # Dovecot will not hand mail to uid 0: its own users own the mail
        mail_user = pwd.getpwnam("dovecot")
        login_user, internal_user = "dovenull", "dovecot"
    else:
        mail_user = pwd.getpwuid(os.getuid())
        login_user = internal_user = mail_user.pw_name
    port = free_port()
    for sub in ("run", "state", "mail"):
        os.makedirs(f"{root}/{sub}")
    os.chown(f"{root}/mail", mail_user.pw_uid, mail_user.pw_gid)
    with open(f"{root}/dovecot.conf", "w") as f:
        f.write(DOVECOT_CONF.format(root=root, port=port, uid=mail_user.pw_uid, gid=mail_user.pw_gid,
                                    login_user=login_user, internal_user=internal_user,
                                    internal_group=internal_user))
    with open(f"{root}/passwd", "w") as f:
        f.write("support:{PLAIN}imap-secret-9\n")
    proc = subprocess.Popen([binary, "-F", "-c", f"{root}/dovecot.conf"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    server = Dovecot("127.0.0.1", port, "support", "imap-secret-9")
    deadline = time.monotonic() + 15
    while True:
        try:
            server.client().logout()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = open(f"{root}/dovecot.log").read() if os.path.exists(f"{root}/dovecot.log") else ""
                pytest.fail(f"dovecot did not start: {proc.stderr.read().decode()} {log}")
            time.sleep(0.1)
    yield server
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def support_queue(db):
    queue = Queue.objects.create(name="General")
    group = QuestionGroup.objects.create(name="邮件", queue=queue)
    return queue, group


@pytest.fixture
def mailbox(users, dovecot, smtp, media, support_queue):
    _queue, group = support_queue
    folder = dovecot.new_folder()
    return email_services.create_mailbox(users["admin"], {
        "name": "客服", "address": "support@guanxi.test", "imap_host": dovecot.host, "imap_port": dovecot.port,
        "imap_security": "none", "imap_user": dovecot.user, "imap_password": dovecot.password,
        "imap_folder": folder, "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "question_group_id": group.pk, "auto_acknowledge": True,
    })
