"""An Asterisk Manager Interface (AMI) client over TCP (asyncio): login, the event stream, actions with their
responses (Originate for click-to-call), and `guanxi cti`, which keeps one connection per active AMI PBX and
reconnects with a growing back-off (1 s, 2 s, 4 s … at most a minute) when the PBX goes away. It picks up an
administrator's changes without a restart: every RESCAN seconds it compares the connections' `updated_at`.

The events of `guanxi cti` are recorded in this process when Redis carries the channel layer (the web server's
agent sockets hear the screen pop through it); without Redis they are posted, signed, to the web server's own
webhook (SITE_URL), so the pop reaches the sockets of the process that serves them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable

from . import call_events as ce

logger = logging.getLogger(__name__)
BANNER = b"Asterisk Call Manager"
TIMEOUT = 10.0
MAX_BACKOFF = 60.0
RESCAN = 10.0  # seconds between `guanxi cti`'s looks at the connections an administrator may have changed


class AmiError(ConnectionError):
    """The PBX refused (bad login, failed action) or spoke something else than AMI."""


class AmiClient:
    def __init__(self, host: str, port: int, username: str, secret: str,
                 on_event: Callable[[dict[str, str]], Awaitable[None]] | None = None, timeout: float = TIMEOUT):
        self.host, self.port, self.username, self.secret = host, port, username, secret
        self.on_event = on_event
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.banner = ""
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future] = {}

    async def read_frame(self) -> dict[str, str]:
        data = await self.reader.readuntil(b"\r\n\r\n")
        return ce.parse_frame(data.decode("utf-8", "replace"))

    async def connect(self) -> None:
        """Open the socket, check the banner and log in; AmiError when the PBX refuses."""
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                          self.timeout)
        line = await asyncio.wait_for(self.reader.readline(), self.timeout)
        if not line.startswith(BANNER):
            await self.close()
            raise AmiError(f"not an AMI server: {line[:60]!r}")
        self.banner = line.decode("utf-8", "replace").strip()
        action_id = f"login-{next(self._ids)}"
        self.writer.write(ce.format_action("Login", ActionID=action_id, Username=self.username, Secret=self.secret,
                                           Events="on"))
        await self.writer.drain()
        while True:
            frame = await asyncio.wait_for(self.read_frame(), self.timeout)
            if frame.get("ActionID") == action_id or ("Response" in frame and "ActionID" not in frame):
                break
        if frame.get("Response") != "Success":
            await self.close()
            raise AmiError(frame.get("Message") or "login refused")

    async def action(self, name: str, **fields: str) -> dict[str, str]:
        """Send an action and wait for its response (while `listen` runs, or reading it here when it does not)."""
        action_id = f"{name.lower()}-{next(self._ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self.writer.write(ce.format_action(name, ActionID=action_id, **fields))
        await self.writer.drain()
        try:
            if not self._listening:
                while not future.done():
                    await self._dispatch(await asyncio.wait_for(self.read_frame(), self.timeout))
            return await asyncio.wait_for(future, self.timeout)
        finally:
            self._pending.pop(action_id, None)

    _listening = False

    async def _dispatch(self, frame: dict[str, str]) -> None:
        future = self._pending.get(frame.get("ActionID", ""))
        if future is not None and "Response" in frame and not future.done():
            future.set_result(frame)
        elif "Event" in frame and self.on_event is not None:
            await self.on_event(frame)

    async def listen(self) -> None:
        """Read frames until the connection ends (then raise ConnectionError)."""
        self._listening = True
        try:
            while True:
                try:
                    frame = await self.read_frame()
                except asyncio.IncompleteReadError as exc:
                    raise ConnectionError("the PBX closed the connection") from exc
                await self._dispatch(frame)
        finally:
            self._listening = False

    async def originate(self, extension: str, number: str, context: str, technology: str = "PJSIP") -> None:
        """Ring the agent's extension; when they pick up, the PBX dials `number` in `context`."""
        response = await self.action("Originate", Channel=f"{technology}/{extension}", Context=context, Exten=number,
                                     Priority="1", CallerID=number, Timeout="30000", Async="true")
        if response.get("Response") != "Success":
            raise AmiError(response.get("Message") or "originate refused")

    async def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.write(ce.format_action("Logoff"))
                self.writer.close()
                await asyncio.wait_for(self.writer.wait_closed(), 2)
            except (OSError, TimeoutError):
                pass
            self.writer = None


async def run_forever(client: AmiClient, stop: asyncio.Event, on_state: Callable[[str], None] | None = None,
                      first_delay: float = 1.0) -> None:
    """Stay connected until `stop` is set: connect, listen, and after a failure wait 1 s, 2 s, 4 s … (at most
    MAX_BACKOFF; back to 1 s after a connection that worked)."""
    delay = first_delay
    while not stop.is_set():
        try:
            await client.connect()
            delay = first_delay
            if on_state:
                on_state("")
            listener = asyncio.ensure_future(client.listen())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({listener, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not listener.done():
                listener.cancel()
                break
            listener.result()
        except (TimeoutError, OSError, AmiError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            logger.warning("AMI %s:%s: %s; retrying in %.0f s", client.host, client.port, exc, delay)
            if on_state:
                on_state(str(exc) or exc.__class__.__name__)
        finally:
            await client.close()
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            pass
        delay = min(MAX_BACKOFF, delay * 2)


# ------------------------------------------------------------------ Django side: click-to-call and `guanxi cti`

def _client(source, on_event=None) -> AmiClient:
    return AmiClient(source.ami_host, source.ami_port, source.ami_username, source.ami_password, on_event)


def originate(source, extension: str, number: str) -> None:
    """Click-to-call from a request thread: a short AMI session (login, Originate, logoff)."""

    async def once() -> None:
        client = _client(source)
        try:
            await client.connect()
            await client.originate(extension, number, source.originate_context, source.channel_technology)
        finally:
            await client.close()

    asyncio.run(once())


def webhook_body(event: ce.CallEvent) -> dict[str, str]:
    """The event as the webhook's JSON (how `guanxi cti` hands it to the web server without Redis)."""
    return {"call_id": event.call_id, "event": event.kind, "at": event.at.isoformat(), "id": event.event_id,
            "caller": event.caller, "callee": event.callee, "extension": event.extension,
            "direction": event.direction, "queue": event.queue, "recording_url": event.recording_url,
            "outcome": event.hint}


def sink_for(source, local: bool | None = None) -> Callable[[ce.CallEvent], Awaitable[None]]:
    """Record events here (with Redis, or when `local`), else post them to the web server's webhook."""
    from channels.db import database_sync_to_async
    from django.conf import settings

    from .call_services import record_event, sign

    if settings.REDIS_URL if local is None else local:
        return database_sync_to_async(lambda event: record_event(source, event))
    url = f"{settings.SITE_URL}/cc/cti/webhook/{source.key}"
    secret = source.secret

    def post(event: ce.CallEvent) -> None:
        body = json.dumps(webhook_body(event)).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Guanxi-Signature": sign(secret, body)})
        with urllib.request.urlopen(request, timeout=TIMEOUT):  # noqa: S310 (our own SITE_URL)
            pass

    return lambda event: asyncio.to_thread(post, event)


async def serve_connection(source, stop: asyncio.Event, local: bool | None = None) -> None:
    """Follow one AMI PBX until `stop`: each event translated, recorded (or posted), the health noted."""
    from channels.db import database_sync_to_async
    from django.utils import timezone

    from .call_models import PbxConnection

    translator = ce.AmiTranslator(recording_base=source.recording_base)
    sink = sink_for(source, local)

    async def on_event(frame: dict[str, str]) -> None:
        for event in translator.translate(frame, dt.datetime.now(dt.UTC)):
            try:
                await sink(event)
            except Exception:  # one bad event must not drop the connection
                logger.exception("AMI event %s of call %s was not recorded", event.kind, event.call_id)

    @database_sync_to_async
    def note(error: str) -> None:
        fields = {"last_error": error[:1000]}
        if not error:
            fields["last_connected_at"] = timezone.now()
        PbxConnection.objects.filter(pk=source.pk).update(**fields)

    loop = asyncio.get_running_loop()
    await run_forever(_client(source, on_event), stop, lambda error: loop.create_task(note(error)))


async def follow(stop: asyncio.Event, rescan: float = RESCAN, local: bool | None = None) -> None:
    """Follow every active AMI connection until `stop`. Every `rescan` seconds one query reads the connections and
    their `updated_at`: a new (or re-enabled) connection is followed; one an administrator edited is reconnected
    with its new settings; one disabled, deleted or turned into a webhook is let go (logged off); a follower that
    ended is started again. The others are left alone."""
    from channels.db import database_sync_to_async
    from django.db import DatabaseError

    from .call_models import PbxConnection, PbxKind

    @database_sync_to_async
    def active() -> dict[int, PbxConnection]:
        return {s.pk: s for s in PbxConnection.objects.filter(kind=PbxKind.AMI, active=True).exclude(ami_host="")}

    running: dict[int, tuple[PbxConnection, asyncio.Event, asyncio.Task]] = {}
    ending: set[asyncio.Task] = set()

    def let_go(pk: int, why: str) -> None:
        source, own_stop, task = running.pop(pk)
        print(f"CTI: {source.name} at {source.ami_host}:{source.ami_port}: {why}", flush=True)
        own_stop.set()
        ending.add(task)
        task.add_done_callback(ending.discard)

    try:
        while not stop.is_set():
            try:
                sources = await active()
            except DatabaseError as exc:  # the database is away: keep following what runs, look again later
                logger.warning("CTI: could not read the PBX connections: %s", exc)
                sources = {pk: source for pk, (source, _stop, _task) in running.items()}
            for pk in list(running):
                source, _own_stop, task = running[pk]
                if pk not in sources:
                    let_go(pk, "disabled or removed; logging off")
                elif sources[pk].updated_at != source.updated_at:
                    let_go(pk, "settings changed; reconnecting")
                elif task.done():
                    let_go(pk, "the follower ended; starting again")
            for pk, source in sources.items():
                if pk not in running:
                    print(f"CTI: following {source.name} at {source.ami_host}:{source.ami_port}", flush=True)
                    own_stop = asyncio.Event()
                    running[pk] = (source, own_stop, asyncio.ensure_future(serve_connection(source, own_stop, local)))
            try:
                await asyncio.wait_for(stop.wait(), rescan)
            except TimeoutError:
                pass
    finally:
        for pk in list(running):
            let_go(pk, "stopping")
        await asyncio.gather(*ending, return_exceptions=True)


def cmd_cti(args) -> int:
    """`guanxi cti`: follow every active AMI connection until Ctrl-C or SIGTERM, picking up the administrators'
    changes every --rescan seconds."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await follow(stop, args.rescan)

    asyncio.run(main())
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("cti", help="follow the Asterisk PBXs (AMI) set up under Settings → Phone system")
    p.add_argument("--rescan", type=float, default=RESCAN,
                   help=f"seconds between looks for new, changed or disabled connections; default {RESCAN:.0f}")
    p.set_defaults(func=cmd_cti)
