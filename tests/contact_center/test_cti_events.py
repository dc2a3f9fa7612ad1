"""The call events without a database: AMI frames as Asterisk 20 sends them, translated into call events; the
webhook's JSON and its errors."""

import datetime as dt

import pytest

from guanxi.contact_center import call_events as ce

from .amipeer import abandoned_call, frame, inbound_call

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def translate_all(frames, translator=None):
    translator = translator or ce.AmiTranslator()
    return [e for f in frames for e in translator.translate(ce.parse_frame(f), NOW)]


def test_parse_frame_reads_key_values_and_keeps_colons_in_values():
    raw = ("Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000001\r\n"
           "CallerIDName: <unknown>\r\nAccountCode: \r\nContext: a:b\r\n\r\n")
    assert ce.parse_frame(raw) == {"Event": "Newchannel", "Privilege": "call,all",
                                   "Channel": "PJSIP/trunk-00000001", "CallerIDName": "<unknown>",
                                   "AccountCode": "", "Context": "a:b"}


def test_format_action_is_crlf_lines_and_a_blank_line():
    assert ce.format_action("Login", ActionID="1", Username="u", Secret="p") == (
        b"Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: p\r\n\r\n")


def test_channel_extension():
    assert ce.channel_extension("PJSIP/1001-0000002a") == "1001"
    assert ce.channel_extension("SIP/8002-00000001") == "8002"
    assert ce.channel_extension("Local/1001@from-queue-00000001;1") == "1001"
    assert ce.channel_extension("garbage") == ""


def test_inbound_queued_call_from_real_frames():
    events = translate_all(inbound_call(recording="/var/spool/asterisk/monitor/q-1.wav"),
                           ce.AmiTranslator(recording_base="https://pbx.example.cn/rec/"))
    kinds = [(e.kind, e.extension) for e in events]
    # Newchannel, QueueCallerJoin, DialBegin and Newstate (both the agent's ringing: one key), the agent's
    # BridgeEnter (the caller's own leg entering is not an answer), the caller's hang-up (the agent's leg is not)
    assert kinds == [("ringing", ""), ("queued", ""), ("ringing", "1001"), ("ringing", "1001"),
                     ("answered", "1001"), ("hungup", "")]
    assert {e.call_id for e in events} == {"1732442400.1"}
    first = events[0]
    assert (first.caller, first.callee, first.direction) == ("13800138000", "4000", "in")
    assert first.at == dt.datetime.fromtimestamp(1732442400, dt.UTC)
    assert events[1].queue == "support"
    assert events[2].key == events[3].key  # DialBegin and Newstate of the same leg are one event
    assert events[4].at - events[1].at == dt.timedelta(seconds=12)
    assert events[-1].recording_url == "https://pbx.example.cn/rec/q-1.wav"
    assert events[-1].hint == "Normal Clearing"
    assert len({e.key for e in events}) == 5


def test_abandoned_call():
    events = translate_all(abandoned_call())
    assert [e.kind for e in events] == ["ringing", "queued", "abandoned", "hungup"]
    assert events[2].at - events[1].at == dt.timedelta(seconds=30)


def test_outbound_call_from_an_extension():
    chan = {"Channel": "PJSIP/1001-00000009", "CallerIDNum": "1001", "Exten": "013800138000",
            "Uniqueid": "9.1", "Linkedid": "9.1"}
    events = translate_all([frame(Event="Newchannel", **chan),
                            frame(Event="DialBegin", **chan, DestChannel="PJSIP/trunk-0000000a",
                                  DestCallerIDNum="013800138000", DestUniqueid="9.2", DestLinkedid="9.1"),
                            frame(Event="BridgeEnter", **chan), frame(Event="Hangup", **chan)])
    assert [(e.kind, e.direction, e.extension) for e in events] == [
        ("ringing", "out", "1001"), ("answered", "", "1001"), ("hungup", "", "")]
    assert events[0].callee == "013800138000"


def test_transfers():
    blind = frame(Event="BlindTransfer", Result="Success", TransfererChannel="PJSIP/1001-00000002",
                  TransfererUniqueid="1.2", TransfererLinkedid="1.1", TransfereeChannel="PJSIP/trunk-00000001",
                  TransfereeUniqueid="1.1", TransfereeLinkedid="1.1", IsExternal="No", Context="from-internal",
                  Extension="1002")
    attended = frame(Event="AttendedTransfer", Result="Success", OrigTransfererChannel="PJSIP/1002-00000003",
                     OrigTransfererUniqueid="1.3", OrigTransfererLinkedid="1.1",
                     SecondTransfererChannel="PJSIP/1002-00000004", SecondTransfererUniqueid="1.4",
                     SecondTransfererLinkedid="1.4", TransferTargetChannel="PJSIP/1003-00000005",
                     TransferTargetUniqueid="1.5", TransferTargetLinkedid="1.4", TransferTargetCallerIDNum="1003",
                     DestType="Bridge")
    events = translate_all([blind, attended])
    assert [(e.kind, e.call_id, e.extension) for e in events] == [
        ("transferred", "1.1", "1002"), ("transferred", "1.1", "1003")]


def test_unknown_events_and_recording_that_is_not_a_url_are_ignored():
    translator = ce.AmiTranslator()
    assert translate_all([frame(Event="FullyBooted", Status="Fully Booted"),
                          frame(Event="VarSet", Uniqueid="1.1", Linkedid="1.1", Variable="MIXMONITOR_FILENAME",
                                Value="javascript://x")], translator) == []
    assert translator.recordings == {}  # neither an http(s) URL nor a file under a configured base


WEBHOOK = {"call_id": "c-1", "event": "ringing", "at": "2026-11-24T18:00:00+08:00", "caller": "138 0013 8000",
           "extension": "1001", "id": "e-1"}


def test_webhook_event():
    event = ce.parse_webhook(WEBHOOK)
    assert event.at == NOW and event.kind == "ringing" and event.key == "e-1"
    assert ce.parse_webhook({**WEBHOOK, "id": ""}).key == "ringing:1001@2026-11-24T10:00:00+00:00"


@pytest.mark.parametrize(("change", "fields"), [
    ({"call_id": ""}, {"call_id"}),
    ({"call_id": "x" * 101}, {"call_id"}),
    ({"event": "exploded"}, {"event"}),
    ({"at": "2026-11-24T10:00:00"}, {"at"}),  # no zone
    ({"at": "yesterday", "caller": ["1"]}, {"at", "caller"}),
    ({"direction": "sideways"}, {"direction"}),
    ({"recording_url": "javascript:alert(1)"}, {"recording_url"}),
    ({"call_id": "c\x00-1", "caller": "\ud800"}, {"call_id", "caller"}),  # PostgreSQL stores neither
])
def test_webhook_errors_name_the_fields(change, fields):
    with pytest.raises(ce.EventError) as caught:
        ce.parse_webhook({**WEBHOOK, **change})
    assert set(caught.value.errors) == fields


def test_webhook_needs_an_object():
    with pytest.raises(ce.EventError) as caught:
        ce.parse_webhook([WEBHOOK])
    assert set(caught.value.errors) == {"body"}
