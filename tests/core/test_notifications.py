"""In-app notifications: idempotent sending by key, the bell's count, the list and marking read."""

from __future__ import annotations

from django.urls import reverse

from guanxi.core.models import Notification
from guanxi.core.notifications import mark_read, notify, unread_count


def test_notify_once_per_key_and_only_inside_links(users):
    rep = users["rep_a"]
    first = notify(rep, "任务提醒: 回访张三", "/activities/tasks/1/", key="task:1:remind")
    assert first is not None
    assert notify(rep, "任务提醒: 回访张三", "/activities/tasks/1/", key="task:1:remind") is None
    notify(rep, "no key", "javascript:alert(1)")
    notify(rep, "no key either", "//evil.example/")
    assert Notification.objects.filter(user=rep).count() == 3
    assert set(Notification.objects.filter(user=rep).values_list("link", flat=True)) == {"/activities/tasks/1/", ""}
    assert unread_count(rep) == 3
    assert unread_count(users["admin"]) == 0


def test_bell_list_and_mark_read(client, users):
    rep = users["rep_a"]
    one = notify(rep, "<b>客户</b> 即将退回公海", "/accounts/1/")
    notify(rep, "second", "")
    notify(users["manager_a"], "not yours", "")
    client.force_login(rep)
    page = client.get(reverse("home")).content.decode()
    assert 'id="notification-count">2<' in page
    listing = client.get(reverse("notification_list")).content.decode()
    assert "&lt;b&gt;客户&lt;/b&gt;" in listing and "not yours" not in listing
    client.post(reverse("notification_read"), {"id": [one.pk]})
    assert unread_count(rep) == 1
    client.post(reverse("notification_read"))
    assert unread_count(rep) == 0
    assert 'id="notification-count"' not in client.get(reverse("home")).content.decode()
    assert mark_read(users["manager_a"], [one.pk]) == 0  # someone else's notification is untouched
