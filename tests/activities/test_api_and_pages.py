import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Task, TaskStatus


def test_activities_api_create_list_by_subject_with_cursor_and_field_errors(
    api,
    users,
    zhang,
    django_assert_max_num_queries,
):
    account, contact = zhang
    for i in range(5):
        r = api["rep_a"].post(
            "activities",
            {
                "kind": "call",
                "subject": f"电话 {i}",
                "account_id": account.pk,
                "contact_id": contact.pk,
                "direction": "out",
                "duration_seconds": 60,
            },
        )
        assert r.status_code == 201, r.content
    with django_assert_max_num_queries(8):
        first = api["rep_a"].get("activities", {"account": account.pk, "limit": 3}).json()
    second = api["rep_a"].get("activities", {"account": account.pk, "limit": 3, "cursor": first["next"]}).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next"] is None
    assert first["items"][0]["contact"]["id"] == contact.pk
    assert api["rep_b"].get("activities", {"account": account.pk}).json()["items"] == []
    bad = api["rep_a"].post("activities", {"kind": "call", "account_id": 10**9, "duration_seconds": -5})
    assert bad.status_code == 400 and "duration_seconds" in bad.json()["errors"]
    bad = api["rep_a"].post("activities", {"kind": "call", "subject": "x", "account_id": 10**9})
    assert bad.status_code == 400 and "account_id" in bad.json()["errors"]


def test_tasks_api_mine_patch_with_version_and_complete(api, users, zhang, django_assert_max_num_queries):
    account, _ = zhang
    due = (timezone.now() + dt.timedelta(days=1)).isoformat()
    for i in range(4):
        r = api["rep_a"].post("tasks", {"title": f"任务 {i}", "due_at": due, "account_id": account.pk})
        assert r.status_code == 201
    api["manager_a"].post("tasks", {"title": "给 rep_a2", "due_at": due, "owner_id": users["rep_a2"].pk})
    with django_assert_max_num_queries(6):
        mine = api["rep_a"].get("tasks").json()["items"]
    assert [t["title"] for t in mine] == [f"任务 {i}" for i in range(4)]
    assert [t["title"] for t in api["rep_a2"].get("tasks").json()["items"]] == ["给 rep_a2"]
    task = mine[0]
    ok = api["rep_a"].patch(f"tasks/{task['id']}", {"version": task["version"], "priority": "high"})
    assert ok.status_code == 200 and ok.json()["version"] == task["version"] + 1
    stale = api["rep_a"].patch(f"tasks/{task['id']}", {"version": task["version"], "title": "旧"})
    assert stale.status_code == 409 and stale.json()["current"]["priority"] == "high"
    for field, value in (("priority", "urgent"), ("due_at", "tomorrow"), ("owner_id", users["rep_b"].pk)):
        bad = api["rep_a"].patch(f"tasks/{task['id']}", {"version": ok.json()["version"], field: value})
        assert bad.status_code == 400 and field in bad.json()["errors"]
    done = api["rep_a"].post(f"tasks/{task['id']}/complete", {})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert api["rep_b"].get(f"tasks/{task['id']}").status_code == 404
    assert api["rep_a"].get("tasks", {"status": "open"}).json()["items"][0]["title"] == "任务 1"


def test_hand_over_api(api, users, zhang):
    account, _ = zhang
    services.create_task(users["rep_a"], {"title": "跟进", "account_id": account.pk})
    refused = api["rep_a2"].post("hand-overs", {"to_user_id": users["rep_a2"].pk, "from_user_id": users["rep_a"].pk})
    assert refused.status_code == 403
    assert api["manager_a"].post("hand-overs", {"account_ids": [account.pk]}).status_code == 400
    r = api["manager_a"].post(
        "hand-overs", {"to_user_id": users["rep_a2"].pk, "account_ids": [account.pk], "note": "客户转交"}
    )
    assert r.status_code == 201 and r.json() == {"accounts": 1, "tasks": 1, "opportunities": 0}


@pytest.mark.parametrize("view", ["day", "week", "month"])
def test_agenda_views_show_my_tasks_in_constant_queries(client, users, task, view, django_assert_max_num_queries):
    rep = users["rep_a"]
    client.force_login(rep)
    date = timezone.localdate(task.at).isoformat()
    url = f"/agenda/?view={view}&date={date}"
    with django_assert_max_num_queries(12) as few:
        page = client.get(url).content.decode()
    assert f'data-task="{task.pk}"' in page
    for i in range(10):
        services.create_task(rep, {"title": f"更多 {i}", "due_at": task.due_at, "account_id": task.account_id})
    with django_assert_max_num_queries(len(few.captured_queries)):
        fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "agenda"}).content.decode()
    assert fragment.startswith('<div id="agenda"') and fragment.count("data-task=") == 11


def test_today_card_done_button_and_hand_over_page(client, users, zhang, task):
    rep = users["rep_a"]
    overdue = services.create_task(rep, {"title": "逾期的", "due_at": timezone.now() - dt.timedelta(days=2)})
    client.force_login(rep)
    card = client.get("/agenda/today/").content.decode()
    assert f'data-task="{overdue.pk}"' in card and f'data-task="{task.pk}"' not in card  # tomorrow's is not today's
    answer = client.post(f"/tasks/{overdue.pk}/done/", headers={"HX-Request": "true", "HX-Target": "today"})
    assert "data-task=" not in answer.content.decode()
    assert Task.objects.get(pk=overdue.pk).status == TaskStatus.DONE
    client.force_login(users["manager_a"])
    account, _ = zhang
    assert client.get(f"/hand-over/?account={account.pk}").status_code == 200
    r = client.post("/hand-over/", {"account": account.pk, "to_user": users["rep_a2"].pk, "note": "交接"})
    assert r.status_code == 302 and Task.objects.get(pk=task.pk).owner == users["rep_a2"]
    client.force_login(users["rep_b"])
    assert client.get(f"/hand-over/?account={account.pk}").status_code == 404


def test_calendar_settings_page_creates_and_revokes(client, users):
    client.force_login(users["rep_a"])
    page = client.post("/settings/calendar/", {"action": "new"}).content.decode()
    url = page.split('<code class="user-select-all">')[1].split("</code>")[0]
    path = url.split("testserver")[1]
    assert client.get(path).status_code == 200
    client.post("/settings/calendar/", {"action": "revoke"})
    assert client.get(path).status_code == 404


def test_the_opportunity_page_lists_its_follow_up(client, users, deal):
    services.log_activity(users["rep_a"], {"kind": "meeting", "subject": "<b>现场演示</b>", "opportunity_id": deal.pk})
    client.force_login(users["rep_a"])
    card = client.get(f"/sales/opportunities/{deal.pk}/follow-up/").content.decode()
    assert "&lt;b&gt;现场演示&lt;/b&gt;" in card  # escaped
    client.force_login(users["rep_b"])
    assert client.get(f"/sales/opportunities/{deal.pk}/follow-up/").status_code == 404
