import pytest
from django.core.exceptions import ValidationError

from guanxi.core.models import CustomField
from guanxi.core.paging import paginate
from guanxi.customers import services
from guanxi.customers.filters import ACCOUNT_SORTS, apply_filters
from guanxi.customers.models import Account


@pytest.fixture
def accounts(users):
    CustomField.objects.create(model="account", key="spend", label_zh="年采购额", label_en="Annual spend",
                               field_type="money")
    CustomField.objects.create(model="account", key="channels", label_zh="渠道", label_en="Channels",
                               field_type="multi_choice", choices=["wechat", "web", "expo"])
    CustomField.objects.create(model="account", key="vip", label_zh="VIP", label_en="VIP", field_type="boolean")
    rep = users["rep_a"]
    made = []
    for i, (cls, spend, channels) in enumerate([("A", "1200.50", ["wechat"]), ("B", "90", ["web", "expo"]),
                                                 ("A", "15000", ["expo"]), ("C", None, [])]):
        made.append(services.create_account(rep, {
            "name": f"测试公司{i}", "classification": cls, "tags": ["重点"] if i % 2 == 0 else [],
            "custom": {"spend": spend, "channels": channels, "vip": i == 2}}))
    return made


def names(qs):
    return sorted(a.name for a in qs)


def test_filters_on_standard_and_custom_fields(accounts, users):
    qs = Account.objects.visible_to(users["rep_a"])
    assert names(apply_filters(qs, {"classification": ["A"]}, users["rep_a"])) == ["测试公司0", "测试公司2"]
    assert names(apply_filters(qs, {"tag": "重点"}, users["rep_a"])) == ["测试公司0", "测试公司2"]
    assert names(apply_filters(qs, {"custom.spend__gte": "1000"}, users["rep_a"])) == ["测试公司0", "测试公司2"]
    assert names(apply_filters(qs, {"custom.channels": "expo"}, users["rep_a"])) == ["测试公司1", "测试公司2"]
    assert names(apply_filters(qs, {"custom.vip": "true"}, users["rep_a"])) == ["测试公司2"]
    assert names(apply_filters(qs, {"owner": "me"}, users["rep_a"])) == [a.name for a in accounts]


def test_bad_filters_name_the_field(accounts, users):
    qs = Account.objects.visible_to(users["rep_a"])
    with pytest.raises(ValidationError) as err:
        apply_filters(qs, {"classification": "Z", "custom.spend__gte": "lots", "custom.nope": "1", "owner": "x"},
                      users["rep_a"])
    assert set(err.value.message_dict) == {"classification", "custom.spend__gte", "custom.nope", "owner"}


@pytest.mark.parametrize("sort", ACCOUNT_SORTS)
def test_keyset_pages_cover_everything_once(accounts, users, sort):
    qs = Account.objects.visible_to(users["admin"])
    seen, cursor = [], None
    while True:
        page = paginate(qs, sort=sort, allowed=ACCOUNT_SORTS, cursor=cursor, limit=3)
        seen += [a.pk for a in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(a.pk for a in accounts)
    assert len(seen) == len(set(seen))


def test_forged_cursor_is_a_field_error(accounts, users):
    with pytest.raises(ValidationError) as err:
        paginate(Account.objects.all(), sort="name", allowed=ACCOUNT_SORTS, cursor="garbage!!", limit=3)
    assert "cursor" in err.value.message_dict
