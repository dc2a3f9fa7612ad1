"""Header -> field guesses for Chinese and English files, templates and their checks."""

import json

import pytest

from guanxi.customers.fileio import apply_template, check_mapping, guess_mapping
from guanxi.customers.fileio.vcard import COLUMNS


def test_chinese_contact_headers():
    headers = ["姓名", "手机号码", "电话", "座机", "邮箱", "公司名称", "职务", "地址", "省", "市", "区", "邮编", "生日",
               "备注", "标签", "不认识的列"]
    assert guess_mapping(headers, "contact") == {
        "姓名": "name", "手机号码": "mobile", "电话": "phone", "座机": None,  # one column per field: 电话 came first
        "邮箱": "email", "公司名称": "account", "职务": "title", "地址": "address", "省": "province", "市": "city",
        "区": "district", "邮编": "postcode", "生日": "birthday", "备注": "notes", "标签": "tags", "不认识的列": None}


def test_english_contact_headers():
    headers = ["First Name", "Last Name", "E-mail", "Mobile", "Phone", "Company", "Title", "Street", "City",
               "Province", "Postcode/ZIP", "Birthday", "Notes", "Tags", "External ID", "Favourite colour"]
    assert guess_mapping(headers) == {
        "First Name": "given_name", "Last Name": "family_name", "E-mail": "email", "Mobile": "mobile",
        "Phone": "phone", "Company": "account", "Title": "title", "Street": "street", "City": "city",
        "Province": "province", "Postcode/ZIP": "postcode", "Birthday": "birthday", "Notes": "notes",
        "Tags": "tags", "External ID": "external_id", "Favourite colour": None}


@pytest.mark.parametrize(("header", "field"), [
    ("名字", "name"), ("联系人", "name"), ("手机", "mobile"), ("电子邮件", "email"), ("Email", "email"),
    ("单位", "account"), ("公司", "account"), ("职位", "title"), ("Given name", "given_name"),
    ("Surname", "family_name"), ("ZIP", "postcode"), ("手机（必填）", "mobile"), ("*邮箱", "email"),
    ("联系人手机", "mobile"), ("手机2", "mobile"), ("Work Phone", "phone"), ("Ｅｍａｉｌ", "email"),
    ("Email Address", "email"), ("Contact E-mail", "email"), ("family_name", "family_name"), ("部门", "department"),
])
def test_contact_variants(header, field):
    assert guess_mapping([header])[header] == field


def test_account_headers():
    headers = ["公司名称", "行业", "规模", "网站", "电话", "邮箱", "地址", "备注", "客户编号", "Website", "Industry"]
    got = guess_mapping(headers, "account")
    assert got == {"公司名称": "name", "行业": "industry", "规模": "size", "网站": "website", "电话": "phone",
                   "邮箱": "email", "地址": "address", "备注": "notes", "客户编号": "external_id", "Website": None,
                   "Industry": None}
    assert guess_mapping(["Company", "Tags"], "account") == {"Company": "name", "Tags": "tags"}


def test_exact_match_beats_an_earlier_partial_one():
    assert guess_mapping(["联系人手机", "手机"]) == {"联系人手机": None, "手机": "mobile"}


def test_custom_fields_only_when_given():
    assert guess_mapping(["会员等级"]) == {"会员等级": None}
    assert guess_mapping(["会员等级", "vip_no"], custom={"level": "会员等级", "vip_no": "VIP号"}) == {
        "会员等级": "custom.level", "vip_no": "custom.vip_no"}


def test_vcard_columns_map_to_themselves():
    mapping = guess_mapping(list(COLUMNS))
    for column in ("name", "family_name", "given_name", "account", "mobile", "phone", "email", "street", "city",
                   "province", "district", "postcode", "birthday", "tags", "notes", "external_id", "title"):
        assert mapping[column] == column
    assert mapping["other_phones"] is None and mapping["website"] is None


def test_template_is_plain_json_and_wins_over_guesses():
    template = json.loads(json.dumps({"电话": "mobile", "备注": None}))
    got = apply_template(["电话", "手机", "备注", "邮箱"], template)
    assert got == {"电话": "mobile", "手机": None, "备注": None, "邮箱": "email"}


def test_check_mapping():
    problems = check_mapping({"a": "name", "b": "name", "c": "nonsense", "d": None, "e": "custom.level"},
                             custom_keys=["level"])
    assert [params for _message, params in problems] == [
        {"field": "name", "first": "a", "second": "b"}, {"column": "c", "field": "nonsense"}]


def test_unknown_target():
    with pytest.raises(ValueError):
        guess_mapping(["x"], "opportunity")


def test_lead_headers_in_chinese_and_english():
    assert guess_mapping(["姓名", "公司", "手机", "邮箱", "来源", "省份", "评级", "地址", "标签"], "lead") == {
        "姓名": "name", "公司": "company", "手机": "phone", "邮箱": "email", "来源": "source", "省份": "province",
        "评级": "rating", "地址": None, "标签": None}  # a lead has no address line or tags
    assert guess_mapping(["Full Name", "Company Name", "Mobile", "E-mail", "Lead Source"], "lead") == {
        "Full Name": "name", "Company Name": "company", "Mobile": "phone", "E-mail": "email", "Lead Source": "source"}
