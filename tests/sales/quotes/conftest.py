import pytest

from guanxi.sales import catalog_services, quote_services
from guanxi.sales.quote_models import CompanyProfile


@pytest.fixture
def catalog(users):
    """Made by a sales manager: a server (13 % VAT, cheaper from 10 on), an installation service (6 %), a CNY
    default price list and a USD one."""
    manager = users["manager_a"]
    CompanyProfile.objects.update_or_create(pk=1, defaults={
        "name": "关系软件（上海）有限公司", "address": "上海市浦东新区世纪大道 100 号", "tax_id": "91310000MA1FL0000X",
        "discount_threshold": 15, "quote_terms": "付款方式：合同签订后 30 天内付清。"})
    server = catalog_services.create_product(manager, {"code": "SRV-740", "name": "服务器 PowerEdge R740",
                                                       "unit": "unit", "tax_rate": "13", "cost": "21000"})
    install = catalog_services.create_product(manager, {"code": "SVC-INST", "name": "实施服务", "kind": "service",
                                                        "unit": "day", "tax_rate": "6"})
    cny = catalog_services.create_price_list(manager, {"name": "标准价 2026", "currency": "CNY", "is_default": True})
    usd = catalog_services.create_price_list(manager, {"name": "Export 2026", "currency": "USD"})
    catalog_services.set_price(manager, cny, {"product_id": server.pk, "unit_price": "28000.00"})
    catalog_services.set_price(manager, cny, {"product_id": server.pk, "unit_price": "26500.00", "min_quantity": "10"})
    catalog_services.set_price(manager, cny, {"product_id": install.pk, "unit_price": "1500.00"})
    catalog_services.set_price(manager, usd, {"product_id": server.pk, "unit_price": "3999.99"})
    return {"server": server, "install": install, "cny": cny, "usd": usd}


@pytest.fixture
def quote(users, zhang, catalog):
    """rep_a's draft for 北京星辰医疗 / 张伟: 2 servers at list price, 3 days of installation at 10 % off."""
    account, contact = zhang
    return quote_services.create_quote(users["rep_a"], {
        "account_id": account.pk, "contact_id": contact.pk, "title": "CT 机房服务器",
        "lines": [{"product_id": catalog["server"].pk, "quantity": "2"},
                  {"product_id": catalog["install"].pk, "quantity": "3", "discount": "10"}]})
