"""Email without a database: parse a raw RFC 5322 message, tell a bounce or an auto-reply from a person's mail,
and find the conversation it belongs to (Message-ID / In-Reply-To / References, or a ticket token in the subject).

Never imports Django: the ingest (email_ingest) and the benchmark call it on raw bytes.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from guanxi.quality.normalize import normalize_email

NORMAL, BOUNCE, AUTO_REPLY = "normal", "bounce", "auto_reply"
# Structural defects that mean we cannot trust what we would read out of the message.
FATAL_DEFECTS = ("StartBoundaryNotFoundDefect", "MultipartInvariantViolationDefect", "NoBoundaryInMultipartDefect",
                 "MissingHeaderBodySeparatorDefect")
TOKEN_RE = re.compile(r"\[#\s*T-?(\d{1,12})\s*\]", re.IGNORECASE)
MSGID_RE = re.compile(r"<([^<>\s]+)>")
MAX_ID = 250
# Anyone can have an address at these: sharing one with a ticket's contact says nothing about the sender.
PUBLIC_MAIL_DOMAINS = frozenset(
    "qq.com foxmail.com 163.com 126.com yeah.net sina.com sina.cn sohu.com 139.com 189.cn aliyun.com gmail.com "
    "googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com icloud.com me.com proton.me protonmail.com "
    "gmx.com gmx.de mail.ru yandex.ru".split())


class _Policy(email.policy.EmailPolicy):
    """email.policy.default whose parsed headers are kept by their raw text: the same Content-Type, MIME-Version
    or sender comes back in message after message, and each `get` parsed it again (half of parse() was spent
    there). A parsed header is read-only, so sharing one between messages is safe."""

    def header_fetch_parse(self, name: str, value: str) -> object:
        if hasattr(value, "name"):
            return value
        return _parsed_header(name, value)


POLICY = _Policy()


@functools.lru_cache(maxsize=8192)
def _parsed_header(name: str, value: str) -> object:
    return email.policy.EmailPolicy.header_fetch_parse(POLICY, name, value)


class MalformedMail(ValueError):
    """The message cannot be read as MIME; `str(exc)` says why (kept on the quarantined row)."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes = b""
    refused: str = ""  # why it was kept out ("too_large"), else ""


@dataclass
class ParsedMail:
    message_id: str
    synthetic_id: bool
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    kind: str = NORMAL
    bounced: list[str] = field(default_factory=list)  # the addresses a bounce says failed

    @property
    def thread_ids(self) -> list[str]:
        """The ids that may name an earlier message of the conversation, nearest first."""
        seen: list[str] = []
        for mid in self.in_reply_to + list(reversed(self.references)):
            if mid not in seen and mid != self.message_id:
                seen.append(mid)
        return seen

    @property
    def token(self) -> str | None:
        return ticket_token(self.subject)


def raw_id(raw: bytes) -> str:
    """A stable id for a message without a Message-ID: the same bytes always give the same id."""
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@guanxi.invalid"


def quarantine_id(raw: bytes) -> str:
    """The id to keep an unreadable message under: its Message-ID header if one can be read, else the hash."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = re.search(rb"^message-id:[ \t]*<([^<>\s]+)>", head, re.IGNORECASE | re.MULTILINE)
    return clean_id(match.group(1).decode("ascii", "replace")) if match else raw_id(raw)


def clean_id(value: str) -> str:
    value = value.replace("\x00", "").strip().strip("<>").strip()
    if len(value) > MAX_ID:  # an absurd id still names one message: keep it unique and short enough to index
        value = f"{value[:200]}~{hashlib.sha256(value.encode()).hexdigest()[:32]}"
    return value


def message_ids(header: str | None) -> list[str]:
    if not header:
        return []
    found = MSGID_RE.findall(str(header))
    if not found and str(header).strip():
        found = [str(header).split()[0]]
    return [clean_id(m) for m in found if clean_id(m)]


def new_message_id(domain: str) -> str:
    return f"{uuid.uuid4().hex}@{domain or 'guanxi.invalid'}"


def ticket_token(subject: str) -> str | None:
    """The ticket number a subject carries, as "[#T000123]" (or "[#T-000123]") → "T000123"."""
    match = TOKEN_RE.search(subject or "")
    return f"T{int(match.group(1)):06d}" if match else None


def may_use_token(sender: str, contact_addresses: set[str], seen: set[str]) -> bool:
    """Whether a mail from `sender` may join a ticket by its subject token alone: the sender is the ticket's
    contact, an address already on the ticket's mail, or at the contact's own (not a public mail) domain. A token
    is easy to copy, so anyone else gets a ticket of their own."""
    if not sender:
        return False
    if sender in contact_addresses or sender in seen:
        return True
    domain = sender.rsplit("@", 1)[-1]
    return domain not in PUBLIC_MAIL_DOMAINS and any(a.rsplit("@", 1)[-1] == domain for a in contact_addresses)


def token_for(number: str) -> str:
    return f"[#{number}]"


def reply_subject(subject: str, number: str) -> str:
    """ "Re: <subject> [#T000123]", without piling up Re: or repeating the token."""
    base = TOKEN_RE.sub("", subject or "").strip()
    while re.match(r"^(re|aw|回复|答复)\s*[:：]\s*", base, re.IGNORECASE):
        base = re.sub(r"^(re|aw|回复|答复)\s*[:：]\s*", "", base, count=1, flags=re.IGNORECASE).strip()
    return f"Re: {base} {token_for(number)}".replace("  ", " ")


def _addresses(msg: Message, name: str) -> list[str]:
    values = [str(v) for v in msg.get_all(name, [])]
    out = []
    for _n, addr in getaddresses(values):
        norm = normalize_email(addr) if addr and "@" in addr else ""
        if norm and norm not in out:
            out.append(norm)
    return out


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot decode: read it raw
        value = msg.get_all(name, [""])[0] if hasattr(msg, "get_all") else ""
    return re.sub(r"\s+", " ", str(value or "").replace("\x00", "")).strip()


def auto_kind(msg: Message) -> tuple[str, list[str]]:
    """BOUNCE (with the failed recipients), AUTO_REPLY or NORMAL, from the headers and the report parts."""
    failed = [a for a in _addresses(msg, "X-Failed-Recipients")]
    if msg.get_content_type() == "multipart/report" and \
            str(msg.get_param("report-type", "")).lower() == "delivery-status":
        for part in msg.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                action = str(block.get("Action", "")).strip().lower()
                recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
                addr = recipient.split(";", 1)[-1].strip()
                if recipient and action in ("failed", "") and "@" in addr:
                    norm = normalize_email(addr)
                    if norm not in failed:
                        failed.append(norm)
        return BOUNCE, failed
    if failed:
        return BOUNCE, failed
    submitted = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower()
    if (submitted and submitted != "no") or msg.get("X-Autoreply") or msg.get("X-Autorespond") \
            or precedence in ("bulk", "auto_reply", "junk", "list"):
        return AUTO_REPLY, []
    return NORMAL, []


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


def _decoded(part: Message) -> str:
    try:
        return part.get_content()
    except Exception:
        payload = part.get_payload(decode=True) or b""
        return payload.decode(part.get_content_charset() or "utf-8", "replace")


def _body_and_attachments(msg: EmailMessage, max_attachment: int | None) -> tuple[str, list[Attachment]]:
    text = html = ""
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition == "attachment" or filename or not ctype.startswith("text/"):
            if ctype in ("message/delivery-status",) or part is msg and not filename:
                continue
            data = part.get_payload(decode=True) or b""
            name = (filename or "attachment").replace("/", "_").replace("\\", "_")[:200]
            attachment = Attachment(filename=name, content_type=ctype, size=len(data), data=data)
            if max_attachment is not None and len(data) > max_attachment:
                attachment.data, attachment.refused = b"", "too_large"
            attachments.append(attachment)
        elif ctype == "text/plain" and not text:
            text = _decoded(part)
        elif ctype == "text/html" and not html:
            html = _decoded(part)
    if not text and html:
        text = html_to_text(html)
    return text.replace("\r\n", "\n").replace("\x00", "").strip(), attachments


def parse(raw: bytes, max_attachment: int | None = None) -> ParsedMail:
    """Read a raw message. Raises MalformedMail when the MIME structure is broken or nobody sent it."""
    if not raw or not raw.strip():
        raise MalformedMail("empty message")
    try:
        msg = email.message_from_bytes(raw, policy=POLICY)
    except Exception as exc:  # the parser is lenient; this is for what it still cannot take
        raise MalformedMail(f"unreadable: {exc.__class__.__name__}: {exc}") from exc
    defects = [d.__class__.__name__ for part in msg.walk() for d in part.defects]
    fatal = [d for d in defects if d in FATAL_DEFECTS]
    if fatal:
        raise MalformedMail("broken MIME structure: " + ", ".join(sorted(set(fatal))))
    try:
        from_name, from_addr = parseaddr(_header(msg, "From"))
        from_address = normalize_email(from_addr) if "@" in from_addr else ""
        ids = message_ids(_header(msg, "Message-ID"))
        kind, bounced = auto_kind(msg)
        if not from_address and kind != BOUNCE:
            raise MalformedMail("no sender address (From)")
        text, attachments = _body_and_attachments(msg, max_attachment)
        try:
            date = parsedate_to_datetime(_header(msg, "Date")) if _header(msg, "Date") else None
        except (TypeError, ValueError):
            date = None
        return ParsedMail(
            message_id=ids[0] if ids else raw_id(raw), synthetic_id=not ids,
            subject=_header(msg, "Subject")[:500], from_address=from_address, from_name=from_name[:200],
            to=_addresses(msg, "To"), cc=_addresses(msg, "Cc"), date=date,
            in_reply_to=message_ids(_header(msg, "In-Reply-To")), references=message_ids(_header(msg, "References")),
            text=text, attachments=attachments, kind=kind, bounced=bounced,
        )
    except MalformedMail:
        raise
    except Exception as exc:  # a header or part the library chokes on: quarantine, never crash the poll
        raise MalformedMail(f"unreadable: {exc.__class__.__name__}: {exc}") from exc
