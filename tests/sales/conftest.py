import pytest

from guanxi.customers import services as customer_services
from guanxi.sales import services
from guanxi.sales.models import StageKind


@pytest.fixture
def pipeline(db):
    return services.default_pipeline()


@pytest.fixture
def stages(pipeline):
    """The default pipeline's stages: open ones first (qualification … negotiation), then won, then lost."""
    found = list(pipeline.stages.order_by("position"))
    return {
        "open": [s for s in found if s.kind == StageKind.OPEN],
        "won": next(s for s in found if s.kind == StageKind.WON),
        "lost": next(s for s in found if s.kind == StageKind.LOST),
    }


@pytest.fixture
def account_b(users):
    return customer_services.create_account(users["rep_b"], {"name": "广州南方物流有限公司"})


@pytest.fixture
def deal(users, zhang, pipeline):
    """rep_a's opportunity on 北京星辰医疗, 120,000 CNY, in the first stage."""
    account, contact = zhang
    return services.create_opportunity(users["rep_a"], {
        "name": "CT 设备采购", "account_id": account.pk, "contact_id": contact.pk, "amount": "120000.00",
        "expected_close": "2031-03-15"})
