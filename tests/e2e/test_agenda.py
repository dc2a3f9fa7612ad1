"""The agenda in a real browser: a task is marked done with its button (htmx; the agenda refreshes itself),
and the month view is one click away without a page load."""

import pytest
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Task, TaskStatus

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_complete_a_task_from_the_agenda_and_switch_to_the_month(new_page, live_server, transactional_db, users):
    task = services.create_task(users["rep_a"], {"title": "回访张伟", "due_at": timezone.now()})
    page = new_page()
    log_in(page, "rep_a")
    page.click("#nav-agenda")
    row = page.locator(f'li[data-task="{task.pk}"]')
    expect(row).to_have_attribute("data-status", "open")
    row.locator("button.task-done").click()
    expect(page.locator(f'li[data-task="{task.pk}"]')).to_have_attribute("data-status", "done")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    page.click('a[data-view="month"]')
    expect(page.locator("#agenda-month")).to_be_visible()
    expect(page.locator(f'#agenda-month [data-task="{task.pk}"]')).to_be_visible()
    assert "view=month" in page.url
