"""The phone channel's normalised call event, and the two ways events arrive: Asterisk AMI frames and the JSON
of a cloud PBX's webhook. Plain Python, no Django: the AMI client, the webhook view and the tests share it.

A call event says what happened to one PBX call (`call_id`): ringing (at an agent's extension, or inbound
before anyone answers), queued, answered, transferred, abandoned (the caller gave up in the queue) or hung up.
Events may come twice or out of order; `event_id` names each one so that the store keeps it once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

RINGING, QUEUED, ANSWERED, TRANSFERRED, ABANDONED, HUNGUP = (
    "ringing", "queued", "answered", "transferred", "abandoned", "hungup")
KINDS = (RINGING, QUEUED, ANSWERED, TRANSFERRED, ABANDONED, HUNGUP)
INBOUND, OUTBOUND = "in", "out"
OUTCOME_HINTS = ("voicemail", "busy", "failed", "no_answer")
MAX_ID = 100
MAX_NUMBER = 40
MAX_URL = 500


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    kind: str
    at: dt.datetime  # aware
    event_id: str = ""
    caller: str = ""
    callee: str = ""
    extension: str = ""  # the agent's extension the event concerns (ringing at, answered by, transferred to)
    direction: str = ""  # "in", "out" or "" (unknown: decided by who is an agent)
    queue: str = ""
    recording_url: str = ""
    hint: str = ""  # an outcome the PBX knows (voicemail, busy …) or a hang-up cause
    raw: dict = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """What makes the event unique within its call: the PBX's id, else its kind, extension and time."""
        return self.event_id or f"{self.kind}:{self.extension}@{self.at.isoformat()}"


class EventError(ValueError):
    """An event that cannot be used; `errors` names the fields, as the API's 400s do."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# ------------------------------------------------------------------ AMI frames

def parse_frame(text: str) -> dict[str, str]:
    """One AMI message ("Key: Value" lines ending in a blank line) as a dict; a repeated key keeps the first value
    except `ChanVariable`-style repeats, which are joined. Lines without a colon (command output) are skipped."""
    out: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            continue
        key, value = key.strip(), value.strip().replace("\x00", "")
        out[key] = f"{out[key]}\n{value}" if key in out else value
    return out


def format_action(action: str, **fields: str) -> bytes:
    """An AMI action as bytes on the wire (CRLF lines, a blank line at the end)."""
    lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


_CHANNEL_PEER = re.compile(r"^[A-Za-z0-9]+/([^-@;/]+)")


def channel_extension(channel: str) -> str:
    """PJSIP/1001-0000002a → 1001; Local/1001@from-queue-00000001;1 → 1001."""
    match = _CHANNEL_PEER.match(channel or "")
    return match.group(1) if match else ""


def _ami_time(frame: dict[str, str], received: dt.datetime) -> dt.datetime:
    """The event's own Timestamp (timestampevents=yes in manager.conf), else when we read it."""
    try:
        return dt.datetime.fromtimestamp(float(frame["Timestamp"]), dt.UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return received


def _number(value: str) -> str:
    value = (value or "").strip()
    return "" if value in ("<unknown>", "s", "<null>") else value[:MAX_NUMBER]


class AmiTranslator:
    """Turns AMI events into call events. Legs of one call share a Linkedid (the first channel's Uniqueid), which is
    the call id; the call ends when that first channel hangs up. A channel whose caller number is short (at most
    `extension_digits` digits) is a phone of ours, so a call it starts is outbound. Recording file names set by
    the dialplan (MIXMONITOR_FILENAME, or GUANXI_RECORDING_URL) ride on the call's hang-up event."""

    def __init__(self, extension_digits: int = 6, recording_base: str = "") -> None:
        self.extension_digits = extension_digits
        self.recording_base = recording_base
        self.recordings: dict[str, str] = {}

    def is_extension(self, number: str) -> bool:
        return number.isdigit() and len(number) <= self.extension_digits

    def translate(self, frame: dict[str, str], received: dt.datetime) -> list[CallEvent]:
        name = frame.get("Event", "")
        handler = getattr(self, f"on_{name.lower()}", None)
        if handler is None:
            return []
        linked = frame.get("Linkedid") or frame.get("Uniqueid") or ""
        at = _ami_time(frame, received)
        return [e for e in handler(frame, linked, at) or [] if e.call_id]

    def _event(self, frame: dict, call_id: str, kind: str, at: dt.datetime, suffix: str, **kw) -> CallEvent:
        event_id = f"{frame.get('Uniqueid', '')}:{suffix}"
        return CallEvent(call_id=call_id, kind=kind, at=at, event_id=event_id[:MAX_ID], raw=frame, **kw)

    def on_newchannel(self, f, linked, at):
        if f.get("Uniqueid") != linked:
            return []
        caller = _number(f.get("CallerIDNum", ""))
        outbound = self.is_extension(caller)
        return [self._event(f, linked, RINGING, at, "new", caller=caller, callee=_number(f.get("Exten", "")),
                            direction=OUTBOUND if outbound else INBOUND, extension=caller if outbound else "")]

    def on_newstate(self, f, linked, at):
        if f.get("ChannelStateDesc") != "Ringing" or f.get("Uniqueid") == linked:
            return []
        extension = channel_extension(f.get("Channel", ""))
        return [self._event(f, linked, RINGING, at, "ringing", extension=extension,
                            caller=_number(f.get("ConnectedLineNum", "")))]

    def on_dialbegin(self, f, linked, at):
        extension = _number(f.get("DestCallerIDNum", "")) or channel_extension(f.get("DestChannel", ""))
        if not self.is_extension(extension):  # an outbound call dialling the customer: not an agent ringing
            return []
        frame = {**f, "Uniqueid": f.get("DestUniqueid", f.get("Uniqueid", ""))}
        return [self._event(frame, f.get("DestLinkedid") or linked, RINGING, at, "ringing", extension=extension,
                            caller=_number(f.get("CallerIDNum", "")))]

    def on_bridgeenter(self, f, linked, at):
        extension = channel_extension(f.get("Channel", ""))
        if f.get("Uniqueid") == linked:
            if not self.is_extension(_number(f.get("CallerIDNum", ""))):
                return []  # the customer's own leg entering the bridge: the agent's leg says who answered
            extension = _number(f.get("CallerIDNum", ""))  # an agent's outbound call: answered by the far end
        return [self._event(f, linked, ANSWERED, at, "answered", extension=extension)]

    def on_queuecallerjoin(self, f, linked, at):
        return [self._event(f, linked, QUEUED, at, "queued", queue=f.get("Queue", "")[:100],
                            caller=_number(f.get("CallerIDNum", "")))]

    def on_queuecallerabandon(self, f, linked, at):
        return [self._event(f, linked, ABANDONED, at, "abandoned", queue=f.get("Queue", "")[:100])]

    def on_blindtransfer(self, f, linked, at):
        call = f.get("TransfereeLinkedid") or f.get("TransfererLinkedid") or linked
        frame = {**f, "Uniqueid": f.get("TransfererUniqueid", "")}
        return [self._event(frame, call, TRANSFERRED, at, "transfer", extension=_number(f.get("Extension", "")))]

    def on_attendedtransfer(self, f, linked, at):
        call = f.get("OrigTransfererLinkedid") or f.get("TransfereeLinkedid") or linked
        target = (_number(f.get("TransferTargetCallerIDNum", "")) or _number(f.get("SecondTransfererCallerIDNum", ""))
                  or channel_extension(f.get("TransferTargetChannel", "")))
        frame = {**f, "Uniqueid": f.get("OrigTransfererUniqueid", "")}
        return [self._event(frame, call, TRANSFERRED, at, "transfer", extension=target)]

    def on_varset(self, f, linked, at):
        variable, value = f.get("Variable", ""), f.get("Value", "")
        if variable in ("MIXMONITOR_FILENAME", "GUANXI_RECORDING_URL") and value:
            if value.startswith(("https://", "http://")):
                self.recordings[linked] = value[:MAX_URL]
            elif self.recording_base:  # a file name on the PBX: served under the configured base URL
                self.recordings[linked] = (self.recording_base.rstrip("/") + "/" + value.rsplit("/", 1)[-1])[:MAX_URL]
        return []

    def on_hangup(self, f, linked, at):
        if f.get("Uniqueid") != linked:
            return []
        cause = f.get("Cause-txt", "") or f.get("Cause", "")
        return [self._event(f, linked, HUNGUP, at, "hangup", hint=cause[:60],
                            recording_url=self.recordings.pop(linked, ""))]


# ------------------------------------------------------------------ webhook JSON

WEBHOOK_FIELDS = {"id": MAX_ID, "caller": MAX_NUMBER, "callee": MAX_NUMBER, "extension": MAX_NUMBER,
                  "queue": 100, "recording_url": MAX_URL, "outcome": 20}


def _iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None and 2000 <= at.year <= 9000 else None


def _storable(text: str) -> bool:
    """No NUL character and no lone surrogate (PostgreSQL refuses both)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_webhook(data: object, _: Callable[[str], str] = str) -> CallEvent:
    """A cloud PBX's event: {"call_id", "event" (ringing | queued | answered | transferred | abandoned | hungup),
    "at" (ISO 8601 with a zone), and optionally "id", "caller", "callee", "extension", "direction" (in | out),
    "queue", "recording_url", "outcome" (voicemail …)}. Raises EventError naming every bad field; messages go
    through `_` (Django's gettext, from the views)."""
    if not isinstance(data, dict):
        raise EventError({"body": [_("Send a JSON object.")]})
    errors: dict[str, list[str]] = {}
    call_id = data.get("call_id")
    if isinstance(call_id, int) and not isinstance(call_id, bool):
        call_id = str(call_id)
    if not isinstance(call_id, str) or not call_id.strip():
        errors["call_id"] = [_("This field is required.")]
    elif len(call_id) > MAX_ID:
        errors["call_id"] = [_("At most %(n)s characters.") % {"n": MAX_ID}]
    kind = data.get("event")
    if kind not in KINDS:
        errors["event"] = [_("One of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}]
    at = _iso(data.get("at"))
    if at is None:
        errors["at"] = [_("Enter a date and time in ISO 8601 with a time zone.")]
    values: dict[str, str] = {}
    for name, limit in WEBHOOK_FIELDS.items():
        value = data.get(name, "")
        if value is None:
            value = ""
        if isinstance(value, int) and not isinstance(value, bool) and name != "recording_url":
            value = str(value)
        if not isinstance(value, str):
            errors[name] = [_("Expected text.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)s characters.") % {"n": limit}]
        else:
            values[name] = value.strip()
    direction = data.get("direction") or ""
    if direction not in ("", INBOUND, OUTBOUND):
        errors["direction"] = [_("Either in or out.")]
    url = values.get("recording_url", "")
    if url and not url.startswith(("https://", "http://")):
        errors["recording_url"] = [_("Enter an http(s) URL.")]
    for name, value in (("call_id", call_id), *values.items()):
        if isinstance(value, str) and not _storable(value):
            errors[name] = [_("Text may not contain NUL characters or invalid Unicode.")]
    if errors:
        raise EventError(errors)
    return CallEvent(call_id=call_id.strip(), kind=kind, at=at.astimezone(dt.UTC), event_id=values["id"],
                     caller=values["caller"], callee=values["callee"], extension=values["extension"],
                     direction=direction, queue=values["queue"], recording_url=url, hint=values["outcome"])


def with_id(event: CallEvent, event_id: str) -> CallEvent:
    return replace(event, event_id=event_id)
