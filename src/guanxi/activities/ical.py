"""iCalendar (RFC 5545) text for a calendar feed; no Django here.

Tasks go out as VEVENTs at their due time, not VTODOs: Google Calendar ignores VTODO entirely and
Outlook shows subscribed VTODOs nowhere, while every client shows a VEVENT. An appointment is a VEVENT
from its start to its end; an all-day item uses DATE values. Times are UTC ("Z"), so no VTIMEZONE is needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

TASK_LENGTH = dt.timedelta(minutes=30)  # how long a task's slot is drawn in the calendar


@dataclass
class Event:
    uid: str
    start: dt.datetime
    end: dt.datetime | None
    summary: str
    description: str = ""
    location: str = ""
    all_day: bool = False
    status: str = "CONFIRMED"  # CONFIRMED, CANCELLED; done tasks are CONFIRMED with "✓ " in the summary
    updated: dt.datetime | None = None
    url: str = ""


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets are split with CRLF + space, never inside a UTF-8 character."""
    out: list[str] = []
    current, size, limit = [], 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with the space
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n ".join(out)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(e: Event, stamp: dt.datetime) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{e.uid}", f"DTSTAMP:{_utc(stamp)}"]
    if e.all_day:
        day = e.start.date()
        last = e.end.date() if e.end and e.end.date() > day else day
        lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{last + dt.timedelta(days=1):%Y%m%d}"]
    else:
        end = e.end if e.end and e.end > e.start else e.start + TASK_LENGTH
        lines += [f"DTSTART:{_utc(e.start)}", f"DTEND:{_utc(end)}"]
    lines.append(f"SUMMARY:{escape(e.summary)}")
    if e.description:
        lines.append(f"DESCRIPTION:{escape(e.description)}")
    if e.location:
        lines.append(f"LOCATION:{escape(e.location)}")
    if e.url:
        lines.append(f"URL:{e.url}")
    if e.updated:
        lines.append(f"LAST-MODIFIED:{_utc(e.updated)}")
    lines += [f"STATUS:{e.status}", "END:VEVENT"]
    return lines


def calendar(name: str, events: Iterable[Event], stamp: dt.datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Guanxi//Guanxi CRM//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
        "X-PUBLISHED-TTL:PT15M",
    ]
    for event in events:
        lines += _event(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
