import datetime as dt
import email
import email.policy
import socket

import icalendar
import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from guanxi.activities import ical, services
from guanxi.activities.jobs import send_reminders
from guanxi.core.models import Notification


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port; Django's mail goes to it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_a_due_reminder_notifies_and_mails_once(users, task, smtp):
    rep = users["rep_a"]
    rep.email = "rep_a@example.cn"
    rep.save()
    assert send_reminders(task.remind_at - dt.timedelta(minutes=1)) == 0  # not yet
    assert send_reminders(task.remind_at) == 1
    assert send_reminders(task.remind_at + dt.timedelta(minutes=1)) == 0  # twice → one reminder
    assert Notification.objects.filter(user=rep).count() == 1
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.rcpt_tos == ["rep_a@example.cn"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert task.title in message["Subject"] and message["To"] == "rep_a@example.cn"
    # A new reminder time reminds again.
    task.refresh_from_db()
    services.update_task(rep, task, {"remind_at": task.remind_at + dt.timedelta(hours=2)}, task.version)
    assert send_reminders(task.remind_at + dt.timedelta(hours=2)) == 1
    assert Notification.objects.filter(user=rep).count() == 2 and len(smtp.messages) == 2


def test_ical_escaping_and_folding_on_chinese_text():
    line = ical.fold("SUMMARY:" + ical.escape("回访张伟, 确认报价; 签约\\日期\n第二行" * 3))
    for part in line.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
    assert ical.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_the_feed_serves_tasks_as_events_and_a_revoked_token_is_404(client, users, task):
    rep = users["rep_a"]
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    appt = services.create_task(
        rep,
        {
            "title": "客户拜访 " + "很长的标题" * 12,
            "kind": "appointment",
            "start_at": start,
            "end_at": start + dt.timedelta(hours=1),
            "location": "北京, 朝阳",
        },
    )
    token = services.new_calendar_token(rep)
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"task-{task.pk}@guanxi", f"task-{appt.pk}@guanxi"}
    mine = events[f"task-{task.pk}@guanxi"]
    assert str(mine["SUMMARY"]) == task.title  # the , ; \ came back intact
    assert mine.decoded("DTSTART") == task.due_at and mine.decoded("DTSTART").tzinfo is not None
    assert str(events[f"task-{appt.pk}@guanxi"]["LOCATION"]) == "北京, 朝阳"
    assert events[f"task-{appt.pk}@guanxi"].decoded("DTEND") == appt.end_at
    assert "DTSTAMP" in mine
    assert client.get(f"/calendar/{token}.ics").content.count(b"UID:task-") == 2  # UIDs stable
    services.new_calendar_token(rep)  # regenerated: the old address stops working
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get("/calendar/nonsense.ics").status_code == 404
