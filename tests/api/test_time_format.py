"""The list endpoints write times themselves (for speed); they must read as the rest of the API's."""

import datetime as dt

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


def test_no_time_is_null():
    assert stamp(None) is None
