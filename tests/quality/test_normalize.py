"""Normalisation runs without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanxi.core.customfields import FieldDef, clean_value, clean_values
from guanxi.quality.normalize import (
    NormalizationError,
    clean_text,
    normalize_email,
    normalize_phone,
    pinyin_keys,
    split_address,
)


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                   "+8613800138000", "１３８００１３８０００", "(+86) 13800138000"])
def test_mobile_numbers_in_any_format_become_e164(typed):
    assert normalize_phone(typed) == "+8613800138000"


def test_landline_and_foreign_numbers():
    assert normalize_phone("010-6552 9988") == "+861065529988"
    assert normalize_phone("+1 415 555 2671") == "+14155552671"
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize("bad", ["call me", "12", "abc123", "+86 138 0013 8000 0000 0000 0000"])
def test_not_a_phone(bad):
    with pytest.raises(NormalizationError):
        normalize_phone(bad)


def test_email_is_trimmed_lowercased_and_full_width_folded():
    assert normalize_email("  Zhang.Wei＠Example.COM ") == "zhang.wei@example.com"
    for bad in ["nope", "a@", "@b.cn", "a b@c.cn", "a@b"]:
        with pytest.raises(NormalizationError):
            normalize_email(bad)


def test_names_are_trimmed_and_folded():
    assert clean_text("  北京　星辰   医疗 ") == "北京 星辰 医疗"
    assert clean_text("ＡＢＣ１２３") == "ABC123"


def test_pinyin_keys_include_initials_and_surname_readings():
    assert pinyin_keys("张伟")[:2] == ("zhangwei", "zw")
    assert {"zengxiaoming", "zxm"} <= set(pinyin_keys("曾小明"))
    assert pinyin_keys("John Smith") == ("js",)


def test_one_line_chinese_address_is_split():
    assert split_address("广东省深圳市南山区科苑路15号") == {
        "province": "广东省", "city": "深圳市", "district": "南山区", "street": "科苑路15号"}
    assert split_address("北京市朝阳区建国路88号")["city"] == "北京市"


@given(st.text(max_size=30))
def test_normalisers_never_crash_on_any_text(text):
    for fn in (normalize_phone, normalize_email):
        try:
            fn(text)
        except NormalizationError:
            pass


def test_custom_field_values_are_validated():
    money = FieldDef("spend", "money")
    assert clean_value(money, "1,200.5") == "1200.50"
    with pytest.raises(ValueError):
        clean_value(money, "lots")
    choice = FieldDef("tier", "choice", choices=["gold", "silver"])
    with pytest.raises(ValueError):
        clean_value(choice, "bronze")
    assert clean_value(FieldDef("d", "date"), "2026-02-28") == "2026-02-28"
    with pytest.raises(ValueError):
        clean_value(FieldDef("d", "date"), "2026-02-30")
    assert clean_value(FieldDef("b", "boolean"), "是") is True
    assert clean_value(FieldDef("m", "multi_choice", choices=["a", "b"]), "a, b, a") == ["a", "b"]


def test_required_custom_fields_and_unknown_keys_are_errors():
    defs = [FieldDef("tier", "choice", required=True, choices=["gold"]), FieldDef("n", "number")]
    _values, errors = clean_values(defs, {"nope": 1, "n": "x"})
    assert set(errors) == {"custom.nope", "custom.n", "custom.tier"}
    values, errors = clean_values(defs, {"tier": "gold", "n": "3"})
    assert errors == {} and values == {"tier": "gold", "n": 3}


def test_pinyin_keys_read_phrases_as_pypinyin_does_a_whole_name():
    """The segment cache must not change a reading: 重庆 is chongqing, 银行 yinhang, 长沙 changsha."""
    from pypinyin import lazy_pinyin

    for name in ("重庆银行股份有限公司", "中国银行重庆分行", "长沙音乐学院", "朝阳区会计事务所", "厦门长城科技2号",
                 "行长", "重要客户", "乐清电器", "Acme 上海分公司"):
        full = "".join(s.lower() for s in lazy_pinyin(name, errors=lambda s: list(s))).replace(" ", "")
        assert pinyin_keys(name)[0] == full, name
    assert pinyin_keys("重庆银行")[:2] == ("chongqingyinhang", "cqyh")
