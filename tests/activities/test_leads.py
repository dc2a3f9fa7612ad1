"""Activities and tasks on leads: logged like those on customers, seen by whoever may see the lead, shown on
the lead's page, and carried to the account, contact and opportunity when the lead is converted."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.jobs import send_reminders
from guanxi.activities.models import Activity, Task, TaskStatus
from guanxi.core.models import AuditAction, Notification
from guanxi.core.records import audit_trail
from guanxi.customers.timeline import timeline_for
from guanxi.sales import lead_services
from guanxi.sales.models import Lead
from tests.sales.conftest import pipeline  # noqa: F401 (the default pipeline, for conversions)


@pytest.fixture
def lead(users):
    """rep_a's new lead 周杰 of 成都天府软件."""
    return lead_services.create_lead(
        users["rep_a"], {"name": "周杰", "company": "成都天府软件有限公司", "phone": "13912345678"}
    )


def _call(user, lead, subject="首次电话", **extra):
    return services.log_activity(
        user, {"kind": "call", "subject": subject, "direction": "out", "lead_id": lead.pk, **extra}
    )


# ------------------------------------------------------------------ services


def test_an_activity_and_a_task_on_a_lead_alone_are_audited(users, lead):
    rep = users["rep_a"]
    call = _call(rep, lead, duration_seconds="120")
    assert (call.lead_id, call.account_id, call.contact_id, call.opportunity_id) == (lead.pk, None, None, None)
    assert audit_trail(call).get().changes["lead_id"] == [None, lead.pk]
    task = services.create_task(rep, {"title": "发资料给周杰", "lead_id": lead.pk})
    assert task.lead_id == lead.pk and audit_trail(task).get().action == AuditAction.CREATE
    with pytest.raises(ValidationError) as exc:  # still about something: a lead counts, nothing does not
        services.log_activity(rep, {"kind": "call", "subject": "x"})
    assert "account_id" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        _call(users["viewer"], lead)


def test_an_activity_on_a_lead_is_seen_by_whoever_may_see_the_lead(users, lead):
    call = _call(users["rep_a"], lead)
    task = services.create_task(users["manager_a"], {"title": "周五回访", "lead_id": lead.pk})
    for name, sees in (("rep_a", True), ("manager_a", True), ("admin", True), ("rep_a2", False), ("rep_b", False)):
        assert Activity.objects.visible_to(users[name]).filter(pk=call.pk).exists() is sees, name
        assert Task.objects.visible_to(users[name]).filter(pk=task.pk).exists() is sees, name
    # Another rep can neither log on the lead nor give it a task: it is not theirs to see.
    for name in ("rep_a2", "rep_b"):
        with pytest.raises(ValidationError) as exc:
            _call(users[name], lead)
        assert "lead_id" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            services.create_task(users[name], {"title": "偷看", "lead_id": lead.pk})
        assert "lead_id" in exc.value.message_dict
    # The lead moves to rep_b: its follow-up goes with it (rep_a keeps what they wrote themselves).
    lead = lead_services.update_lead(users["admin"], lead, {"owner_id": users["rep_b"].pk}, lead.version)
    assert Activity.objects.visible_to(users["rep_b"]).filter(pk=call.pk).exists()
    assert Task.objects.visible_to(users["rep_b"]).filter(pk=task.pk).exists()
    assert Activity.objects.visible_to(users["rep_a"]).filter(pk=call.pk).exists()  # the author
    assert not Task.objects.visible_to(users["rep_a"]).filter(pk=task.pk).exists()


def test_conversion_carries_the_leads_activities_and_tasks_to_what_it_became(users, lead, pipeline):  # noqa: F811
    rep = users["rep_a"]
    earlier = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    call = _call(rep, lead, occurred_at=earlier.isoformat())
    visit = services.log_activity(rep, {"kind": "meeting", "subject": "上门演示", "lead_id": lead.pk})
    open_task = services.create_task(rep, {"title": "发报价", "lead_id": lead.pk, "due_at": timezone.now()})
    done_task = services.complete_task(rep, services.create_task(rep, {"title": "加微信", "lead_id": lead.pk}))
    lead = lead_services.convert_lead(rep, lead, {"amount": "50000"}, lead.version)
    account, contact, opp = lead.converted_account, lead.converted_contact, lead.converted_opportunity
    for row in (call, visit, open_task, done_task):
        row.refresh_from_db()
        assert (row.account_id, row.contact_id, row.opportunity_id, row.lead_id) == (
            account.pk,
            contact.pk,
            opp.pk,
            lead.pk,
        )
    assert open_task.status == TaskStatus.OPEN and open_task.version == 2  # changed: a stale editor gets a 409
    assert audit_trail(open_task).first().changes["account_id"] == [None, account.pk]
    # The account's and the contact's 360° timelines show the history from before the conversion.
    for subject in (account, contact):
        kinds = [i.kind for i in timeline_for(subject, rep)]
        assert "activity-call" in kinds and "activity-meeting" in kinds and kinds.count("task") == 2
    assert [a.pk for a in Activity.objects.filter(opportunity=opp)] == [visit.pk, call.pk]
    # A converted lead takes no new follow-up: that goes on the account, contact or opportunity.
    with pytest.raises(ValidationError) as exc:
        _call(rep, lead, subject="转化后")
    assert "lead_id" in exc.value.message_dict
    # But its carried tasks can still be changed.
    assert services.update_task(rep, open_task, {"priority": "high"}, open_task.version).priority == "high"


def test_deleting_a_lead_keeps_the_history_its_customers_have(users, lead, pipeline):  # noqa: F811
    rep = users["rep_a"]
    other = lead_services.create_lead(rep, {"name": "吴敏", "company": "南京紫金"})
    kept = _call(rep, lead)
    gone = _call(rep, other)
    lead = lead_services.convert_lead(rep, lead, {"create_opportunity": False}, lead.version)
    lead_services.delete_lead(rep, lead)
    lead_services.delete_lead(rep, other)
    kept.refresh_from_db()
    assert kept.account_id == lead.converted_account_id and kept.lead_id is None
    assert not Activity.objects.filter(pk=gone.pk).exists()


# ------------------------------------------------------------------ API


def test_api_logs_on_a_lead_refuses_another_reps_and_filters_by_lead(api, users, lead, django_assert_max_num_queries):
    other = lead_services.create_lead(users["rep_b"], {"name": "冯晓", "company": "厦门"})
    for i in range(3):
        r = api["rep_a"].post("activities", {"kind": "call", "subject": f"电话 {i}", "lead_id": lead.pk})
        assert r.status_code == 201, r.content
    assert r.json()["lead"] == {"id": lead.pk, "name": str(lead)} and r.json()["account"] is None
    _call(users["rep_b"], other)
    refused = api["rep_a"].post("activities", {"kind": "call", "subject": "x", "lead_id": other.pk})
    assert refused.status_code == 400 and "lead_id" in refused.json()["errors"]
    assert str(other) not in refused.content.decode()  # nothing about the other rep's lead leaks
    with django_assert_max_num_queries(9):
        mine = api["rep_a"].get("activities", {"lead": lead.pk}).json()["items"]
    assert [a["subject"] for a in mine] == ["电话 2", "电话 1", "电话 0"]
    assert api["rep_a"].get("activities", {"lead": other.pk}).json()["items"] == []
    assert api["rep_b"].get("activities", {"lead": lead.pk}).json()["items"] == []
    assert len(api["manager_a"].get("activities", {"lead": lead.pk}).json()["items"]) == 3

    due = (timezone.now() + dt.timedelta(days=1)).isoformat()
    r = api["rep_a"].post("tasks", {"title": "回访周杰", "due_at": due, "lead_id": lead.pk})
    assert r.status_code == 201 and r.json()["lead"]["id"] == lead.pk
    api["rep_a"].post("tasks", {"title": "别的", "due_at": due})
    assert [t["title"] for t in api["rep_a"].get("tasks", {"lead": lead.pk}).json()["items"]] == ["回访周杰"]
    refused = api["rep_a"].post("tasks", {"title": "x", "due_at": due, "lead_id": other.pk})
    assert refused.status_code == 400 and "lead_id" in refused.json()["errors"]
    refused = api["rep_a"].patch(f"tasks/{r.json()['id']}", {"version": 1, "lead_id": other.pk})
    assert refused.status_code == 400 and "lead_id" in refused.json()["errors"]
    assert api["rep_b"].get(f"tasks/{r.json()['id']}").status_code == 404


# ------------------------------------------------------------------ the lead's page and the forms


def test_the_lead_page_shows_its_follow_up_in_constant_queries(client, users, lead, django_assert_max_num_queries):
    rep = users["rep_a"]
    _call(rep, lead, subject="<b>首次电话</b>")
    task = services.create_task(rep, {"title": "发资料", "lead_id": lead.pk, "due_at": timezone.now()})
    done = services.complete_task(rep, services.create_task(rep, {"title": "已完成的", "lead_id": lead.pk}))
    client.force_login(rep)
    url = f"/sales/leads/{lead.pk}/"
    with django_assert_max_num_queries(12) as few:
        page = client.get(url).content.decode()
    assert 'id="lead-followup"' in page and "&lt;b&gt;首次电话&lt;/b&gt;" in page  # escaped
    assert f'data-task="{task.pk}"' in page and f'data-task="{done.pk}"' not in page  # open tasks only
    assert f"/activities/new/?lead_id={lead.pk}" in page and f"/tasks/new/?lead_id={lead.pk}" in page
    for i in range(8):
        _call(rep, lead, subject=f"更多 {i}")
        services.create_task(rep, {"title": f"更多任务 {i}", "lead_id": lead.pk})
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("data-activity=") == 9 and page.count("data-task=") == 9
    client.force_login(users["rep_b"])
    assert client.get(url).status_code == 404


def test_the_forms_log_on_the_lead_and_come_back_to_it(client, users, lead, pipeline):  # noqa: F811
    rep = users["rep_a"]
    client.force_login(rep)
    form = client.get(f"/activities/new/?lead_id={lead.pk}").content.decode()
    assert f'name="lead_id" value="{lead.pk}"' in form
    r = client.post("/activities/new/", {"lead_id": lead.pk, "account_id": "", "kind": "email", "subject": "资料"})
    assert r.status_code == 302 and r["Location"] == f"/sales/leads/{lead.pk}/"
    assert Activity.objects.get(lead=lead).kind == "email"
    form = client.get(f"/tasks/new/?lead_id={lead.pk}").content.decode()
    assert f'name="lead_id" value="{lead.pk}"' in form
    due = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = client.post("/tasks/new/", {"lead_id": lead.pk, "account_id": "", "title": "约见", "due_at": due})
    assert r.status_code == 302 and Task.objects.get(lead=lead).title == "约见"
    client.force_login(users["rep_b"])
    r = client.post("/activities/new/", {"lead_id": lead.pk, "kind": "email", "subject": "偷看"})
    assert r.status_code == 400 and Activity.objects.count() == 1
    # Once converted, the page shows the history but offers no new follow-up on the lead.
    lead = lead_services.convert_lead(rep, Lead.objects.get(pk=lead.pk), {}, 1)
    client.force_login(rep)
    page = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert 'data-activity="' in page and f"?lead_id={lead.pk}" not in page


# ------------------------------------------------------------------ reminders, agenda, calendar feed


def test_a_lead_task_reminds_and_is_on_the_agenda_and_in_the_feed(client, users, lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep = users["rep_a"]
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    task = services.create_task(
        rep, {"title": "回访周杰", "lead_id": lead.pk, "due_at": due, "remind_at": due - dt.timedelta(hours=1)}
    )
    assert send_reminders(task.remind_at) == 1
    assert Notification.objects.filter(user=rep).count() == 1
    client.force_login(rep)
    agenda = client.get(f"/agenda/?view=day&date={timezone.localdate(due).isoformat()}").content.decode()
    assert f'data-task="{task.pk}"' in agenda and f"/sales/leads/{lead.pk}/" in agenda
    token = services.new_calendar_token(rep)
    cal = icalendar.Calendar.from_ical(client.get(f"/calendar/{token}.ics").content)
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == f"task-{task.pk}@guanxi" and str(lead) in str(event["DESCRIPTION"])
