"""A scripted Asterisk manager (AMI) peer for the CTI tests: a real TCP server in a thread of its own that speaks the
protocol as Asterisk 20 does — the banner, Login answered with Success or Error, the action responses (Originate),
then the scripted event frames. It records every action it received, and can drop a connection to test the
client's reconnect."""

from __future__ import annotations

import asyncio
import threading

from guanxi.contact_center.call_events import parse_frame

BANNER = b"Asterisk Call Manager/5.0.2\r\n"


def frame(**fields: str) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"


def inbound_call(linked: str = "1732442400.1", caller: str = "13800138000", agent: str = "1001",
                 ts: float = 1732442400.0, queue: str = "support", wait: float = 12.0, talk: float = 95.0,
                 recording: str = "") -> list[str]:
    """The frames Asterisk sends for a queued inbound call answered by `agent`, then hung up by the caller."""
    leg = f"{linked.split('.')[0]}.{int(linked.split('.')[1]) + 1}"
    base = {"Privilege": "call,all"}
    caller_chan = {"Channel": "PJSIP/trunk-00000001", "CallerIDNum": caller, "CallerIDName": "<unknown>",
                   "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>", "Language": "en",
                   "AccountCode": "", "Context": "from-trunk", "Exten": "4000", "Priority": "1",
                   "Uniqueid": linked, "Linkedid": linked}
    agent_chan = {"Channel": f"PJSIP/{agent}-00000002", "CallerIDNum": agent, "CallerIDName": "Agent",
                  "ConnectedLineNum": caller, "Context": "from-internal", "Exten": "4000", "Priority": "1",
                  "Uniqueid": leg, "Linkedid": linked}
    frames = [
        frame(Event="Newchannel", **base, Timestamp=f"{ts:.6f}", ChannelState="0", ChannelStateDesc="Down",
              **caller_chan),
        frame(Event="QueueCallerJoin", **base, Timestamp=f"{ts + 1:.6f}", **caller_chan, Queue=queue,
              Position="1", Count="1"),
        frame(Event="DialBegin", **base, Timestamp=f"{ts + 1 + wait - 3:.6f}", **caller_chan,
              DestChannel=f"PJSIP/{agent}-00000002", DestChannelState="5", DestChannelStateDesc="Ringing",
              DestCallerIDNum=agent, DestConnectedLineNum=caller, DestUniqueid=leg, DestLinkedid=linked,
              DialString=f"PJSIP/{agent}"),
        frame(Event="Newstate", **base, Timestamp=f"{ts + 1 + wait - 3:.6f}", ChannelState="5",
              ChannelStateDesc="Ringing", **agent_chan),
        frame(Event="BridgeEnter", **base, Timestamp=f"{ts + 1 + wait:.6f}", BridgeUniqueid="b-1",
              BridgeType="basic", BridgeNumChannels="1", **caller_chan),
        frame(Event="BridgeEnter", **base, Timestamp=f"{ts + 1 + wait:.6f}", BridgeUniqueid="b-1",
              BridgeType="basic", BridgeNumChannels="2", **agent_chan),
    ]
    if recording:
        frames.append(frame(Event="VarSet", **base, **caller_chan, Variable="MIXMONITOR_FILENAME",
                            Value=recording))
    frames += [
        frame(Event="Hangup", **base, Timestamp=f"{ts + 1 + wait + talk:.6f}", **agent_chan, Cause="16",
              **{"Cause-txt": "Normal Clearing"}),
        frame(Event="Hangup", **base, Timestamp=f"{ts + 1 + wait + talk:.6f}", **caller_chan, Cause="16",
              **{"Cause-txt": "Normal Clearing"}),
    ]
    return frames


def abandoned_call(linked: str = "1732442500.5", caller: str = "13900139000", ts: float = 1732442500.0,
                   queue: str = "support", wait: float = 30.0) -> list[str]:
    chan = {"Channel": "PJSIP/trunk-00000005", "CallerIDNum": caller, "Context": "from-trunk", "Exten": "4000",
            "Uniqueid": linked, "Linkedid": linked}
    return [
        frame(Event="Newchannel", Timestamp=f"{ts:.6f}", ChannelStateDesc="Down", **chan),
        frame(Event="QueueCallerJoin", Timestamp=f"{ts:.6f}", **chan, Queue=queue, Position="1", Count="1"),
        frame(Event="QueueCallerAbandon", Timestamp=f"{ts + wait:.6f}", **chan, Queue=queue, Position="1",
              OriginalPosition="1", HoldTime=str(int(wait))),
        frame(Event="Hangup", Timestamp=f"{ts + wait:.6f}", **chan, Cause="16", **{"Cause-txt": "Normal Clearing"}),
    ]


class AmiPeer:
    def __init__(self, username: str = "guanxi", secret: str = "s3cret", drop_after_login: int = 0) -> None:
        self.username, self.secret = username, secret
        self.actions: list[dict[str, str]] = []
        self.logins = 0
        self.drop_after_login = drop_after_login  # close the first N connections right after their login
        self.script: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.writers: list[asyncio.StreamWriter] = []
        self.port = 0
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> AmiPeer:
        self.thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _shutdown(self) -> None:
        """Stop listening and end every connection's handler (no task left pending)."""
        self.server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def send(self, frames: list[str]) -> None:
        """Send event frames to every logged-in connection (from any thread)."""

        def write() -> None:
            for writer in self.writers:
                writer.write("".join(frames).encode())

        self.loop.call_soon_threadsafe(write)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        try:
            while True:
                data = await reader.readuntil(b"\r\n\r\n")
                action = parse_frame(data.decode())
                self.actions.append(action)
                reply = {"ActionID": action.get("ActionID", "")}
                name = action.get("Action", "").lower()
                if name == "login":
                    if action.get("Username") == self.username and action.get("Secret") == self.secret:
                        self.logins += 1
                        writer.write(frame(Response="Success", **reply, Message="Authentication accepted").encode())
                        if self.logins <= self.drop_after_login:
                            await writer.drain()
                            writer.close()
                            return
                        self.writers.append(writer)
                        writer.write("".join(self.script).encode())
                    else:
                        writer.write(frame(Response="Error", **reply, Message="Authentication failed").encode())
                elif name == "originate":
                    writer.write(frame(Response="Success", **reply, Message="Originate successfully queued").encode())
                elif name == "logoff":
                    writer.write(frame(Response="Goodbye", **reply, Message="Thanks for all the fish.").encode())
                    await writer.drain()
                    writer.close()
                    return
                else:
                    writer.write(frame(Response="Error", **reply, Message="Invalid/unknown command").encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self.writers:
                self.writers.remove(writer)
