"""The list endpoints write times themselves (for speed); they must read as the rest of the API's."""

import datetime as dt

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from hypothesis import given
from hypothesis import strategies as st

from guanxi.customers.api_rows import stamp

BEIJING = dt.timezone(dt.timedelta(hours=8))


@given(st.datetimes(min_value=dt.datetime(1900, 1, 2), timezones=st.just(dt.UTC)))
def test_stamp_matches_django_json_encoder(value):
    expected = DjangoJSONEncoder().default(value)
    assert stamp(value) == expected
    assert stamp(value.astimezone(BEIJING)) == expected  # another zone: the same instant, written in UTC
    naive = value.replace(tzinfo=None)  # what SQLite's driver hands back (core.db.DriverRows): UTC, naive
    assert stamp(naive) == expected


def test_no_time_is_null():
    assert stamp(None) is None


@pytest.mark.django_db
def test_driver_rows_write_out_as_values_rows_do(users):
    """The API's rows come from the driver without Django's converters; written out, they must say exactly
    what the converted values() rows say."""
    from guanxi.customers import services
    from guanxi.customers.api_rows import CONTACT_COLUMNS, contact_dicts, contact_values
    from guanxi.customers.models import Contact

    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "北京星辰医疗"})
    zhang = services.create_contact(rep, {"name": "张伟", "account_ids": [account.pk], "birthday": "1980-02-29",
                                          "marketing_consent": True, "tags": ["重点"]})
    Contact.objects.filter(pk=zhang.pk).update(custom={"wechat": "zw"})  # as a custom field's value is kept
    services.create_contact(rep, {"name": "李娜"})
    qs = Contact.objects.order_by("pk")
    driver, converted = list(contact_values(qs)), list(qs.values(*CONTACT_COLUMNS))
    assert contact_dicts(driver, rep) == contact_dicts(converted, rep)
    first = contact_dicts(driver, rep)[0]
    assert (first["birthday"], first["marketing_consent"], first["custom"]) == (
        dt.date(1980, 2, 29), True, {"wechat": "zw"})
    assert first["created_at"].endswith("Z") and first["consent_changed_at"]
