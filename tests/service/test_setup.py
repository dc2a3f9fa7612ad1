"""Settings ▾ Service desk: administrators create and edit queues, question groups (a tree), SLA policies and
business calendars in the app's pages; bad input is shown next to its field and changes nothing; every change
is audited; anyone else is refused."""

import datetime as dt

import pytest
from django.urls import reverse

from guanxi.core.models import AuditEntry
from guanxi.service.models import BusinessCalendar, QuestionGroup, Queue, SlaPolicy


@pytest.fixture
def admin_client(client, users, english):
    client.force_login(users["admin"])
    return client


def _post(client, kind, data, pk=None):
    url = reverse("service:setting_edit", args=[kind, pk]) if pk else reverse("service:setting_create", args=[kind])
    return client.post(url, data)


def _errors(response, field):
    page = response.content.decode()
    start = page.index(f'data-field="{field}"')
    return page[start:page.index("</div>\n</div>", start)]


def test_an_administrator_creates_and_edits_a_queue_with_its_routing_settings(admin_client, desk, users):
    calendar = BusinessCalendar.objects.create(name="上海办公室")
    response = _post(admin_client, "queues", {
        "name": "大客户", "strategy": "skills_based", "required_skills": "billing, 网络", "supervisor": desk["lead"].pk,
        "calendar": calendar.pk, "senior_queue": desk["vip"].pk, "senior_for": "A", "reroute_after_minutes": "30",
        "reassign_on_breach": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    queue = Queue.objects.get(name="大客户")
    assert (queue.strategy, queue.required_skills, queue.supervisor, queue.calendar, queue.senior_queue,
            queue.senior_for, queue.reroute_after_minutes, queue.reassign_on_breach) == (
        "skills_based", ["billing", "网络"], desk["lead"], calendar, desk["vip"], ["A"], 30, True)
    assert AuditEntry.objects.filter(object_id=queue.pk, action="create", actor=users["admin"]).exists()

    page = admin_client.get(reverse("service:setting_edit", args=["queues", queue.pk])).content.decode()
    assert 'value="billing, 网络"' in page
    response = _post(admin_client, "queues", {"name": "大客户", "strategy": "least_loaded", "required_skills": "",
                                              "senior_for": "", "reroute_after_minutes": ""}, pk=queue.pk)
    assert response.status_code == 302, response.content.decode()
    queue.refresh_from_db()
    assert queue.strategy == "least_loaded" and queue.reroute_after_minutes is None and not queue.reassign_on_breach
    entry = AuditEntry.objects.filter(object_id=queue.pk, action="update").get()
    assert entry.changes["strategy"] == ["skills_based", "least_loaded"]
    assert "大客户" in admin_client.get(reverse("service:setting_list", args=["queues"])).content.decode()


@pytest.mark.parametrize("data, field, words", [
    ({"name": "", "strategy": "round_robin"}, "name", "required"),
    ({"name": "General", "strategy": "round_robin"}, "name", "already exists"),
    ({"name": "X", "strategy": "random"}, "strategy", "valid choice"),
    ({"name": "X", "strategy": "round_robin", "senior_for": "A"}, "senior_for", "senior queue"),
    ({"name": "X", "strategy": "round_robin", "reroute_after_minutes": "-5"}, "reroute_after_minutes", "greater"),
])
def test_queue_errors_are_shown_by_their_field_and_nothing_is_saved(admin_client, desk, data, field, words):
    before = Queue.objects.count()
    response = _post(admin_client, "queues", data)
    assert response.status_code == 400
    assert words in _errors(response, field)
    assert Queue.objects.count() == before and not AuditEntry.objects.filter(action="update").exists()


def test_a_senior_queue_must_be_marked_senior_and_not_itself(admin_client, desk):
    response = _post(admin_client, "queues", {"name": "X", "strategy": "round_robin",
                                              "senior_queue": desk["general"].pk})  # not a senior queue
    assert response.status_code == 400 and "valid choice" in _errors(response, "senior_queue")
    response = _post(admin_client, "queues", {"name": "VIP", "strategy": "least_loaded", "is_senior": "on",
                                              "senior_queue": desk["vip"].pk}, pk=desk["vip"].pk)
    assert response.status_code == 400 and "own senior queue" in _errors(response, "senior_queue")
    response = _post(admin_client, "queues", {"name": "VIP", "strategy": "least_loaded"}, pk=desk["vip"].pk)
    assert response.status_code == 400 and "change them first" in _errors(response, "is_senior")
    assert Queue.objects.get(pk=desk["vip"].pk).is_senior


def test_question_groups_form_a_tree_without_cycles(admin_client, desk):
    response = _post(admin_client, "question-groups", {"name": "增值税发票", "parent": desk["billing"].pk,
                                                       "skills": "billing", "active": "on", "public": "on"})
    assert response.status_code == 302
    child = QuestionGroup.objects.get(name="增值税发票")
    assert child.parent == desk["billing"] and child.routing_queue() == desk["general"]
    page = admin_client.get(reverse("service:setting_list", args=["question-groups"])).content.decode()
    assert page.index(desk["billing"].name) < page.index("增值税发票") < page.index(desk["network"].name)
    response = _post(admin_client, "question-groups", {"name": desk["billing"].name, "parent": child.pk},
                     pk=desk["billing"].pk)
    assert response.status_code == 400 and "under itself" in _errors(response, "parent")
    response = _post(admin_client, "question-groups", {"name": "增值税发票", "parent": desk["billing"].pk})
    assert response.status_code == 400 and "already exists" in response.content.decode()


def test_sla_policies_are_unique_per_priority_and_classification(admin_client):
    data = {"name": "VIP 紧急", "priority": "urgent", "classification": "A", "first_response_minutes": "15",
            "resolution_minutes": "240"}
    assert _post(admin_client, "sla-policies", data).status_code == 302
    policy = SlaPolicy.objects.get(name="VIP 紧急")
    assert SlaPolicy.matching("urgent", "A") == policy
    again = _post(admin_client, "sla-policies", {**data, "name": "又一个"})
    assert again.status_code == 400 and "already exists" in again.content.decode()
    zero = _post(admin_client, "sla-policies", {**data, "first_response_minutes": "0"}, pk=policy.pk)
    assert zero.status_code == 400 and "greater than or equal to 1" in _errors(zero, "first_response_minutes")


def test_a_business_calendar_with_holidays_and_make_up_days(admin_client):
    response = _post(admin_client, "calendars", {
        "name": "深圳", "timezone": "Asia/Shanghai",
        "hours": "mon 09:00-12:00 13:30-18:00\ntue 09:00-18:00\nsat\nsun",
        "makeup_hours": "09:00-17:00", "holidays": "2026-10-01 国庆节\n2026-10-02 国庆节",
        "workdays": "2026-09-27 国庆调休"})
    assert response.status_code == 302
    cal = BusinessCalendar.objects.get(name="深圳")
    assert cal.hours["mon"] == ["09:00-12:00", "13:30-18:00"] and cal.hours["sat"] == []
    assert cal.holidays == {"2026-10-01": "国庆节", "2026-10-02": "国庆节"}
    assert cal.workdays == {"2026-09-27": "国庆调休"}
    calendar = cal.to_calendar()
    assert calendar.hours_on(dt.date(2026, 10, 1)) == ()  # a Thursday off
    assert len(calendar.hours_on(dt.date(2026, 9, 27))) == 1  # a Sunday worked, 09:00-17:00
    page = admin_client.get(reverse("service:setting_edit", args=["calendars", cal.pk])).content.decode()
    assert "2026-10-01 国庆节" in page and "mon 09:00-12:00 13:30-18:00" in page

    for data, field, words in (
            ({"hours": "funday 09:00-10:00"}, "hours", "not a weekday"),
            ({"hours": "mon 9-late"}, "hours", "cannot be read"),
            ({"holidays": "2026-13-01 x"}, "holidays", "not a date"),
            ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
            ({"holidays": "2026-10-01", "workdays": "2026-10-01"}, "workdays", "both a holiday")):
        response = _post(admin_client, "calendars", {"name": "深圳", "timezone": "Asia/Shanghai", **data}, pk=cal.pk)
        assert response.status_code == 400 and words in _errors(response, field), (data, response.content[:200])
    cal.refresh_from_db()
    assert cal.holidays == {"2026-10-01": "国庆节", "2026-10-02": "国庆节"}


def test_only_administrators_reach_the_settings(client, users, desk):
    for who in ("manager_a", "rep_a", "viewer"):
        client.force_login(users[who])
        assert client.get(reverse("service:setting_list", args=["queues"])).status_code == 403
        assert _post(client, "queues", {"name": "偷偷加的", "strategy": "round_robin"}).status_code == 403
    client.force_login(desk["lead"])  # a service manager neither
    assert _post(client, "queues", {"name": "General", "strategy": "least_loaded"},
                 pk=desk["general"].pk).status_code == 403
    assert not Queue.objects.filter(name="偷偷加的").exists()
    assert Queue.objects.get(pk=desk["general"].pk).strategy == "round_robin"
    client.force_login(users["admin"])
    assert client.get(reverse("service:setting_list", args=["nothing"])).status_code == 404
