"""A private Dovecot IMAP server for tests and benchmarks: its own config, passwd-file and maildir in a temporary
directory, listening on a free 127.0.0.1 port, ssl off — or, given test certificates, `ssl = required`: STARTTLS on
that port and implicit TLS on a second one (`ssl_port`). Messages are delivered by IMAP APPEND."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.contact_center.tlscerts import TestCertificates

DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_conf}
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
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    ssl_port: int = 0  # implicit TLS; 0: the server has no TLS
    ca_file: str = ""  # the test authority that signed the server's certificate

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        if self.ca_file:  # ssl = required: no login before TLS
            conn.starttls(ssl.create_default_context(cafile=self.ca_file))
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


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_dovecot(binary: str, extra_conf: str = "", tls: TestCertificates | None = None) -> Iterator[Dovecot]:
    """Start Dovecot in the foreground (`dovecot -F -c <tmp>/dovecot.conf`) and stop it on leaving. `extra_conf`
    is added to the configuration (e.g. `imap_capability = …` to play a server without IDLE); with `tls` the
    server requires TLS, with that certificate."""
    root = tempfile.mkdtemp(prefix="guanxi-dovecot-")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:  # Dovecot will not hand mail to uid 0: its own users own the mail
        mail_user = pwd.getpwnam("dovecot")
        login_user, internal_user = "dovenull", "dovecot"
    else:
        mail_user = pwd.getpwuid(os.getuid())  # not root: every Dovecot process runs as this user
        login_user = internal_user = mail_user.pw_name
    port, ssl_port = free_port(), (free_port() if tls else 0)
    ssl_conf = (f"ssl = required\nssl_cert = <{tls.cert_file}\nssl_key = <{tls.key_file}" if tls else "ssl = no")
    for sub in ("run", "state", "mail"):
        os.makedirs(f"{root}/{sub}")
    os.chown(f"{root}/mail", mail_user.pw_uid, mail_user.pw_gid)
    with open(f"{root}/dovecot.conf", "w") as f:
        f.write(DOVECOT_CONF.format(root=root, port=port, ssl_port=ssl_port, ssl_conf=ssl_conf,
                                    uid=mail_user.pw_uid, gid=mail_user.pw_gid,
                                    login_user=login_user, internal_user=internal_user,
                                    internal_group=grp.getgrgid(mail_user.pw_gid).gr_name) + extra_conf)
    with open(f"{root}/passwd", "w") as f:
        f.write("support:{PLAIN}imap-secret-9\n")
    proc = subprocess.Popen([binary, "-F", "-c", f"{root}/dovecot.conf"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    server = Dovecot("127.0.0.1", port, "support", "imap-secret-9", ssl_port, tls.ca_file if tls else "")
    deadline = time.monotonic() + 15
    while True:
        try:
            server.client().logout()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = open(f"{root}/dovecot.log").read() if os.path.exists(f"{root}/dovecot.log") else ""
                raise RuntimeError(f"dovecot did not start: {proc.stderr.read().decode()} {log}")
            time.sleep(0.1)
    try:
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


