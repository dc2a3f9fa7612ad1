"""A forwarded email, read without a database: the original message of a forward, from a message/rfc822
attachment ("forward as attachment") or from the header block mail clients write above the quoted text:

    Outlook:  -----Original Message----- / From: … / Sent: … / To: … / Subject: …
    Gmail:    ---------- Forwarded message --------- / From: … / Date: … / Subject: … / To: …
    Foxmail:  ------------------ 原始邮件 ------------------ / 发件人: … / 发送时间: … / 收件人: … / 主题: …

An inline block counts only in a mail whose subject says it is a forward (Fwd:, FW:, 转发:): a reply quotes the
same kind of block, and a reply is not a forward.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

from guanxi.quality.normalize import normalize_email

from . import mail

FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|tr|wg|转发|轉寄|转寄)\s*[:：]", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
KEYS = {
    "from": "from", "发件人": "from", "寄件者": "from", "寄件人": "from",
    "to": "to", "收件人": "to", "收件者": "to",
    "cc": "cc", "抄送": "cc", "副本": "cc",
    "subject": "subject", "主题": "subject", "主旨": "subject", "標題": "subject",
    "sent": "date", "date": "date", "发送时间": "date", "日期": "date", "时间": "date", "寄件日期": "date",
}
HEADER_LINE = re.compile(r"^\s*>?\s*\**([A-Za-z]+|[\u4e00-\u9fff]{2,4})\**\s*[:：]\s*(.*)$")
CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日.*?(上午|下午|晚上|中午)?\s*(\d{1,2})[:：](\d{2})")
EN_FORMATS = ("%A, %B %d, %Y %I:%M %p", "%a, %b %d, %Y at %I:%M %p", "%A, %B %d, %Y %H:%M", "%Y-%m-%d %H:%M",
              "%Y/%m/%d %H:%M", "%d %B %Y %H:%M")


@dataclass
class Forwarded:
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None  # naive when the client wrote no zone (then in the server's local time)
    text: str = ""


def is_forward_subject(subject: str) -> bool:
    return bool(FORWARD_SUBJECT.match(subject or ""))


def addresses(value: str) -> list[str]:
    out: list[str] = []
    for found in EMAIL.findall(value or ""):
        norm = normalize_email(found)
        if norm not in out:
            out.append(norm)
    return out


def parse_date(value: str) -> datetime | None:
    value = (value or "").strip()
    match = CN_DATE.search(value)
    if match:
        year, month, day, noon, hour, minute = match.groups()
        hour = int(hour) + (12 if noon in ("下午", "晚上") and int(hour) < 12 else 0)
        try:
            return datetime(int(year), int(month), int(day), hour, int(minute))
        except ValueError:
            return None
    for fmt in EN_FORMATS:  # before the RFC 5322 parser, which would read "3:05 PM" as 03:05
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _sender(value: str) -> tuple[str, str]:
    found = addresses(value)
    if not found:
        return "", ""
    name = value.split("<")[0].split("[")[0].strip().strip('";').strip()
    return found[0], "" if "@" in name else name[:200]


def inline(text: str) -> Forwarded | None:
    """The first header block (From … Subject) in `text` and the text under it."""
    lines = (text or "").splitlines()
    for start, line in enumerate(lines):
        head = HEADER_LINE.match(line)
        if not head or KEYS.get(head.group(1).lower()) != "from":
            continue
        values: dict[str, str] = {}
        end, last = start, ""
        while end < min(start + 15, len(lines)):
            item = HEADER_LINE.match(lines[end])
            if item is None:
                if not lines[end].strip() or not last or "subject" in values:
                    break
                values[last] += " " + lines[end].strip()  # a long To: line wrapped by the client
            elif KEYS.get(item.group(1).lower()):
                last = KEYS[item.group(1).lower()]
                values.setdefault(last, item.group(2).strip())
            end += 1
        if "subject" not in values or not addresses(values.get("from", "")):
            continue
        address, name = _sender(values["from"])
        body = "\n".join(re.sub(r"^\s*>\s?", "", x) for x in lines[end:]).strip()
        return Forwarded(from_address=address, from_name=name, to=addresses(values.get("to", "")),
                         cc=addresses(values.get("cc", "")), subject=values["subject"][:500],
                         date=parse_date(values.get("date", "")), text=body)
    return None


def attached(raw: bytes) -> Forwarded | None:
    """The first message/rfc822 part of the message, read as a mail of its own."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        for part in msg.walk():
            if part.get_content_type() != "message/rfc822":
                continue
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is None:
                continue
            parsed = mail.parse(inner.as_bytes())
            return Forwarded(from_address=parsed.from_address, from_name=parsed.from_name, to=parsed.to,
                             cc=parsed.cc, subject=parsed.subject, date=parsed.date, text=parsed.text)
    except (mail.MalformedMail, ValueError, TypeError, LookupError):
        return None
    return None


def forwarded(raw: bytes, subject: str, text: str) -> Forwarded | None:
    """The original of a forward, or None when the mail is not one (a BCC'd mail the user sent)."""
    found = attached(raw)
    if found is not None and found.from_address:
        return found
    if is_forward_subject(subject):
        return inline(text)
    return None
