import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities import services
from guanxi.sales import services as sales_services
from tests.api.conftest import api  # noqa: F401 (the API client per test user)
from tests.sales.conftest import account_b, pipeline, stages  # noqa: F401 (fixtures)


@pytest.fixture
def deal(users, zhang):
    account, contact = zhang
    return sales_services.create_opportunity(
        users["rep_a"],
        {"name": "CT 设备采购", "account_id": account.pk, "contact_id": contact.pk, "amount": "120000.00"},
    )


@pytest.fixture
def task(users, zhang):
    """rep_a's open task on 北京星辰医疗, due tomorrow at 10:00, reminder an hour before."""
    account, _contact = zhang
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    return services.create_task(
        users["rep_a"],
        {
            "title": "回访张伟, 确认报价; 签约\\日期",
            "account_id": account.pk,
            "due_at": due,
            "remind_at": due - dt.timedelta(hours=1),
        },
    )
