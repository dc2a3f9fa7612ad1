"""The AMI client against a scripted Asterisk peer over a real socket: login accepted and refused, the event stream
translated into calls in the database, Originate for click-to-call, and the reconnect after the PBX goes away."""

import asyncio
import datetime as dt
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from guanxi.activities.models import Activity
from guanxi.contact_center import ami
from guanxi.contact_center import call_events as ce
from guanxi.contact_center.call_models import Call
from guanxi.contact_center.call_services import save_connection
from guanxi.customers import services as customer_services

from .amipeer import AmiPeer, abandoned_call, frame, inbound_call

# With the database mark these run before the browser tests: pytest-django runs tests without the database last,
# after Playwright's session-long event loop is already running in the main thread, where async_to_sync refuses.
pytestmark = pytest.mark.django_db


def collect(peer, secret="s3cret", want=1):
    """Log in, gather frames until `want` events came, log off; returns (banner, events)."""

    async def scenario():
        seen, done = [], asyncio.Event()

        async def on_event(f):
            seen.append(f)
            if len(seen) >= want:
                done.set()

        client = ami.AmiClient("127.0.0.1", peer.port, "guanxi", secret, on_event)
        await client.connect()
        listener = asyncio.ensure_future(client.listen())
        await asyncio.wait_for(done.wait(), 5)
        listener.cancel()
        await client.close()
        return client.banner, seen

    return async_to_sync(scenario)()


def test_login_and_event_stream():
    with AmiPeer() as peer:
        peer.script = inbound_call()
        banner, frames = collect(peer, want=len(peer.script))
    assert banner.startswith("Asterisk Call Manager/5.0")
    assert [f["Event"] for f in frames] == ["Newchannel", "QueueCallerJoin", "DialBegin", "Newstate", "BridgeEnter",
                                            "BridgeEnter", "Hangup", "Hangup"]
    login = peer.actions[0]
    assert (login["Action"], login["Username"], login["Secret"]) == ("Login", "guanxi", "s3cret")


def test_refused_login():
    with AmiPeer() as peer, pytest.raises(ami.AmiError, match="Authentication failed"):
        collect(peer, secret="wrong")


def test_not_an_ami_server():
    async def scenario():
        server = await asyncio.start_server(lambda r, w: w.write(b"SSH-2.0-OpenSSH_9.2\r\n"), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await ami.AmiClient("127.0.0.1", port, "u", "p").connect()
        finally:
            server.close()

    with pytest.raises(ami.AmiError, match="not an AMI server"):
        async_to_sync(scenario)()


def test_originate_reaches_the_pbx():
    async def scenario(port):
        client = ami.AmiClient("127.0.0.1", port, "guanxi", "s3cret")
        await client.connect()
        await client.originate("1001", "+8613800138000", "from-internal", "PJSIP")
        await client.close()

    with AmiPeer() as peer:
        async_to_sync(scenario)(peer.port)
        for _ in range(200):  # the peer's thread reads the Logoff after the client has gone (under load: later)
            if peer.actions and peer.actions[-1]["Action"] == "Logoff":
                break
            time.sleep(0.01)
    originate = next(a for a in peer.actions if a["Action"] == "Originate")
    assert originate["Channel"] == "PJSIP/1001" and originate["Exten"] == "+8613800138000"
    assert originate["Context"] == "from-internal" and originate["Async"] == "true"
    assert peer.actions[-1]["Action"] == "Logoff"


def test_reconnects_with_backoff_after_the_pbx_drops():
    states = []

    async def scenario(port):
        stop = asyncio.Event()
        got = asyncio.Event()

        async def on_event(f):
            got.set()

        client = ami.AmiClient("127.0.0.1", port, "guanxi", "s3cret", on_event)
        runner = asyncio.ensure_future(ami.run_forever(client, stop, states.append, first_delay=0.05))
        await asyncio.wait_for(got.wait(), 10)
        stop.set()
        await asyncio.wait_for(runner, 5)

    with AmiPeer(drop_after_login=2) as peer:
        peer.script = [frame(Event="FullyBooted", Status="Fully Booted")]
        async_to_sync(scenario)(peer.port)
    assert peer.logins == 3  # dropped twice, then the third session heard the event
    assert states[:2] == ["", "the PBX closed the connection"]


@pytest.mark.django_db(transaction=True)
def test_guanxi_cti_records_the_calls_from_the_stream(users, agent, agent_phone):
    contact = customer_services.create_contact(agent, {"name": "王芳", "phones": ["13800138000"]})
    with AmiPeer() as peer:
        source = save_connection(users["admin"], None, {
            "name": "Asterisk", "kind": "ami", "ami_host": "127.0.0.1", "ami_port": peer.port,
            "ami_username": "guanxi", "ami_password": "s3cret", "recording_base": "https://pbx.example.cn/rec",
            "records_as_id": users["admin"].pk, "active": True})
        peer.script = inbound_call(recording="/var/spool/asterisk/monitor/q-1.wav") + abandoned_call()

        async def scenario():
            stop = asyncio.Event()
            task = asyncio.ensure_future(ami.serve_connection(source, stop, local=True))
            for _ in range(200):
                if await sync_to_async(lambda: Call.objects.filter(status="ended").count())() == 2:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, 5)

        async_to_sync(scenario)()
    answered, abandoned = Call.objects.get(call_id="1732442400.1"), Call.objects.get(call_id="1732442500.5")
    assert (answered.outcome, answered.contact, answered.owner, answered.queue) == ("answered", contact, agent,
                                                                                    "support")
    assert (answered.wait_seconds, answered.duration_seconds) == (12, 95)
    assert answered.started_at == dt.datetime.fromtimestamp(1732442400, dt.UTC)
    assert answered.recording_url == "https://pbx.example.cn/rec/q-1.wav"
    assert (abandoned.outcome, abandoned.wait_seconds) == ("abandoned", 30)
    activity = Activity.objects.get()
    assert activity.contact == contact and activity.duration_seconds == 95
    source.refresh_from_db()
    assert source.last_connected_at is not None and source.last_error == ""


def test_webhook_body_round_trips_through_the_parser():
    event = ce.CallEvent("1.1", ce.HUNGUP, dt.datetime(2026, 11, 24, tzinfo=dt.UTC), event_id="1.1:hangup",
                         caller="13800138000", recording_url="https://pbx.example.cn/rec/1.wav", hint="voicemail")
    assert ce.parse_webhook(ami.webhook_body(event)) == event


@pytest.mark.django_db(transaction=True)
def test_guanxi_cti_picks_up_an_edited_or_disabled_connection_without_a_restart(users, capsys):
    """`guanxi cti` runs on; the administrator points the connection at another PBX, then disables it, then turns
    it on again: each change is followed within a rescan, and an unchanged connection is never reconnected."""
    admin = users["admin"]

    def values(port, active=True):
        return {"name": "Asterisk", "kind": "ami", "ami_host": "127.0.0.1", "ami_port": port,
                "ami_username": "guanxi", "ami_password": "s3cret", "records_as_id": admin.pk, "active": active}

    async def until(check, what):
        for _ in range(200):
            if await sync_to_async(check)():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"gave up waiting: {what}")

    def logged_off(peer):
        return any(a["Action"] == "Logoff" for a in peer.actions)

    with AmiPeer() as old, AmiPeer() as new:
        source = save_connection(admin, None, values(old.port))
        new.script = inbound_call()

        async def scenario():
            stop = asyncio.Event()
            task = asyncio.ensure_future(ami.follow(stop, rescan=0.1, local=True))
            await until(lambda: old.logins == 1, "it follows the PBX")
            await asyncio.sleep(0.5)  # several rescans: an unchanged connection is left alone
            assert old.logins == 1 and not logged_off(old)
            await sync_to_async(save_connection)(admin, source, values(new.port))  # moved to another PBX
            await until(lambda: new.logins == 1 and logged_off(old), "it reconnects to the new address")
            await until(lambda: Call.objects.filter(status="ended").exists(), "the new PBX's calls are recorded")
            await sync_to_async(save_connection)(admin, source, values(new.port, active=False))
            await until(lambda: logged_off(new), "a disabled connection is let go")
            await asyncio.sleep(0.5)
            assert new.logins == 1  # and not followed again while disabled
            await sync_to_async(save_connection)(admin, source, values(new.port))
            await until(lambda: new.logins == 2, "re-enabled, it is followed again")
            stop.set()
            await asyncio.wait_for(task, 10)

        async_to_sync(scenario)()
    assert old.logins == 1 and new.logins == 2
    out = capsys.readouterr().out
    assert out.count("CTI: following Asterisk") == 3
    assert f"CTI: Asterisk at 127.0.0.1:{old.port}: settings changed; reconnecting" in out
    assert f"CTI: Asterisk at 127.0.0.1:{new.port}: disabled or removed; logging off" in out
    assert f"CTI: Asterisk at 127.0.0.1:{new.port}: stopping" in out
