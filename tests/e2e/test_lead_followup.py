"""A lead's follow-up in a real browser: from the lead's page, log a call and add a task with the shared forms;
both are on the page when the browser comes back to it."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities.models import Activity, Task
from guanxi.sales import lead_services

from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_log_a_call_and_add_a_task_from_the_leads_page(new_page, live_server, transactional_db, users):
    lead = lead_services.create_lead(users["rep_a"], {"name": "周杰", "company": "成都天府软件有限公司"})
    page = new_page()
    log_in(page, "rep_a")
    page.goto(f"/sales/leads/{lead.pk}/")
    card = page.locator("#lead-followup")
    card.locator(f'a[href$="/activities/new/?lead_id={lead.pk}"]').click()
    page.select_option("#id_kind", "call")
    page.fill("#id_subject", "首次电话")
    page.fill("#id_body", "对方下周有预算会议")
    page.click("#activity-form button[type=submit]")
    page.wait_for_url(f"**/sales/leads/{lead.pk}/")
    call = Activity.objects.get(lead=lead)
    expect(page.locator(f'#lead-followup [data-activity="{call.pk}"]')).to_contain_text("首次电话")
    page.locator("#lead-followup").locator(f'a[href$="/tasks/new/?lead_id={lead.pk}"]').click()
    page.fill("#id_title", "发送产品资料")
    page.fill("#id_due_at", (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#save-task")
    task = Task.objects.get(lead=lead)
    expect(page.locator(f'[data-task="{task.pk}"]')).to_be_visible()  # on the agenda, linked to the lead
    page.goto(f"/sales/leads/{lead.pk}/")
    expect(page.locator(f'#lead-followup [data-task="{task.pk}"]')).to_contain_text("发送产品资料")
