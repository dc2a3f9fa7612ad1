"""Which column of an uploaded file goes to which field: guessed from Chinese or English headers,
then edited by the user and saved as a template (a plain dict, JSON as it is)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from .errors import gettext_noop

CONTACT_FIELDS = ("name", "family_name", "given_name", "title", "department", "phone", "mobile", "email", "account",
                  "address", "province", "city", "district", "street", "postcode", "country", "birthday",
                  "preferred_channel", "marketing_consent", "tags", "notes", "external_id", "owner")
ACCOUNT_FIELDS = ("name", "industry", "size", "classification", "source", "lifecycle_stage", "website", "phone",
                  "email", "address", "province", "city", "district", "street", "postcode", "country", "tags",
                  "notes", "external_id", "owner")
LEAD_FIELDS = ("name", "company", "title", "phone", "email", "source", "industry", "province", "city", "rating",
               "notes", "owner")
FIELDS = {"contact": CONTACT_FIELDS, "account": ACCOUNT_FIELDS, "lead": LEAD_FIELDS}
CUSTOM = "custom."

UNKNOWN_FIELD = gettext_noop("Column \"%(column)s\" is mapped to an unknown field \"%(field)s\".")
TWICE = gettext_noop("Field \"%(field)s\" is mapped from two columns: \"%(first)s\" and \"%(second)s\".")

# Aliases in normalised form (see _key): lower case, no spaces, punctuation or bracketed notes.
_COMMON = {
    "phone": "电话 座机 固话 固定电话 办公电话 公司电话 工作电话 联系电话 电话号码 phone telephone tel phonenumber "
             "workphone officephone businessphone landline",
    "email": "邮箱 电子邮件 电子邮箱 邮件 邮件地址 邮箱地址 email emailaddress mail",
    "address": "地址 详细地址 通讯地址 联系地址 公司地址 办公地址 住址 address fulladdress mailingaddress",
    "province": "省 省份 所在省份 所在省 省直辖市 省市 province state region stateprovince",
    "city": "市 城市 所在城市 地级市 city town",
    "district": "区 区县 县区 县 所在区县 district county",
    "street": "街道 街道地址 门牌 street streetaddress address1 addressline1",
    "postcode": "邮编 邮政编码 postcode postalcode zip zipcode postal",
    "country": "国家 国家地区 country",
    "tags": "标签 tags tag labels",
    "notes": "备注 说明 描述 备注信息 notes note remarks remark comments comment description",
    "external_id": "外部id 外部编号 编号 原系统id id externalid",
    "owner": "负责人 所有者 归属人 销售负责人 跟进人 owner assignedto salesrep",
}
_CONTACT = {
    "name": "姓名 名字 联系人 联系人姓名 联系人名称 客户姓名 name fullname contactname contact displayname",
    "family_name": "姓 姓氏 lastname surname familyname",
    "given_name": "名 firstname givenname forename",
    "title": "职位 职务 职称 岗位 头衔 title jobtitle position",
    "department": "部门 所属部门 department dept",
    "mobile": "手机 手机号 手机号码 移动电话 mobile mobilephone mobilenumber mobileno cell cellphone",
    "account": "公司 公司名称 公司名 单位 单位名称 工作单位 企业 企业名称 客户名称 所属公司 所属客户 "
               "company companyname organization organisation org account accountname employer",
    "birthday": "生日 出生日期 出生年月日 birthday birthdate dateofbirth dob bday",
    "preferred_channel": "首选渠道 偏好渠道 首选联系方式 preferredchannel channel",
    "marketing_consent": "营销许可 同意营销 接收营销 订阅 marketingconsent consent optin subscribed",
    "external_id": "联系人编号 联系人id",
}
_ACCOUNT = {
    "name": "公司 公司名称 公司名 企业 企业名称 单位 单位名称 客户 客户名称 名称 账户名称 name company companyname "
            "accountname account organization organisation org",
    "industry": "行业 所属行业 industry sector",
    "size": "规模 公司规模 企业规模 人数 员工人数 size companysize employees",
    "classification": "分类 客户分类 客户类型 类型 等级 客户等级 classification type tier category",
    "source": "来源 客户来源 source leadsource",
    "lifecycle_stage": "阶段 生命周期 生命周期阶段 客户阶段 状态 lifecyclestage lifecycle stage status",
    "website": "网站 网址 官网 主页 website web url homepage site",
    "phone": "手机 手机号 手机号码 mobile",
    "external_id": "客户编号 客户id 公司编号",
}
_LEAD = {
    "name": "姓名 名字 联系人 联系人姓名 客户姓名 线索名称 name fullname contactname contact leadname",
    "company": "公司 公司名称 公司名 单位 单位名称 工作单位 企业 企业名称 客户名称 所属公司 company companyname "
               "organization organisation org account accountname",
    "title": "职位 职务 职称 岗位 头衔 title jobtitle position",
    "phone": "手机 手机号 手机号码 移动电话 mobile mobilephone mobilenumber cell cellphone",
    "source": "来源 线索来源 客户来源 获客渠道 source leadsource",
    "industry": "行业 所属行业 industry sector",
    "rating": "评级 线索评级 热度 等级 rating",
}
_GROUPS = {"contact": _CONTACT, "account": _ACCOUNT, "lead": _LEAD}
_BRACKETS = re.compile(r"[(\[（【<《].*?[)\]）】>》]")
_NOISE = re.compile(r"[\s_\-./:：*#'\"、,，;；!?？！]+")


def _key(header: str) -> str:
    """A header reduced to what identifies it: full-width forms folded, lower case, no "(必填)" or "*"."""
    text = unicodedata.normalize("NFKC", header).lower()
    text = _BRACKETS.sub("", text) or text
    return _NOISE.sub("", text)


def _aliases(target: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for group in (_GROUPS[target], _COMMON):  # target-specific wins
        for field, words in group.items():
            if field not in FIELDS[target]:  # a lead has no address lines, tags or external id
                continue
            for word in words.split():
                table.setdefault(word, field)
    for field in FIELDS[target]:
        table.setdefault(_key(field), field)  # the field's own name ("family_name") always works
    return table


_TABLES = {target: _aliases(target) for target in FIELDS}


def _fuzzy_ok(alias: str) -> bool:
    # one CJK character (省, 名) or a short Latin word (tel, org) inside a longer header is a coincidence
    return len(alias) >= 2 if not alias.isascii() else len(alias) >= 4


def _guess(key: str, table: Mapping[str, str]) -> tuple[int, str | None]:
    """(quality, field): 3 exact, 2 the header ends with an alias ("联系人手机"), 1 contains one."""
    if not key:
        return 0, None
    bare = key.rstrip("0123456789") or key  # "手机2", "email1"
    for candidate in (key, bare):
        if candidate in table:
            return 3, table[candidate]
    suffix = [a for a in table if _fuzzy_ok(a) and bare.endswith(a)]
    if suffix:
        return 2, table[max(suffix, key=len)]
    inside = [a for a in table if _fuzzy_ok(a) and a in bare]
    if inside:
        return 1, table[max(inside, key=len)]
    return 0, None


def guess_mapping(headers: Sequence[str], target: str = "contact",
                  custom: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """header -> field name, "custom.<key>" or None, for every header, each field used at most once.

    `custom` maps custom field keys to their labels; a header equal to either maps to that field. When
    two headers claim one field the better match wins (exact over partial), then the earlier column."""
    if target not in FIELDS:
        raise ValueError(f"unknown target {target!r}")
    table = _TABLES[target]
    customs = {}
    for field_key, label in (custom or {}).items():
        for word in (field_key, label):
            customs.setdefault(_key(word), CUSTOM + field_key)
    scored = []
    for index, header in enumerate(headers):
        key = _key(header)
        quality, field = _guess(key, table)
        if quality < 3 and key in customs:
            quality, field = 3, customs[key]
        scored.append((-quality, index, header, field))
    mapping: dict[str, str | None] = dict.fromkeys(headers)
    taken: set[str] = set()
    for _quality, _index, header, field in sorted(scored, key=lambda s: (s[0], s[1])):
        if field and field not in taken:
            mapping[header] = field
            taken.add(field)
    return mapping


def check_mapping(mapping: Mapping[str, str | None], target: str = "contact",
                  custom_keys: Iterable[str] = ()) -> list[tuple[str, dict[str, str]]]:
    """Problems of an edited mapping as (message, params): unknown fields, a field fed by two columns."""
    allowed = set(FIELDS[target]) | {CUSTOM + k for k in custom_keys}
    problems: list[tuple[str, dict[str, str]]] = []
    seen: dict[str, str] = {}
    for column, field in mapping.items():
        if not field:
            continue
        if field not in allowed:
            problems.append((UNKNOWN_FIELD, {"column": column, "field": field}))
        elif field in seen:
            problems.append((TWICE, {"field": field, "first": seen[field], "second": column}))
        else:
            seen[field] = column
    return problems


def apply_template(headers: Sequence[str], template: Mapping[str, str | None], target: str = "contact",
                   custom: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """A saved template applied to a new file: its choices for the headers it knows, guesses for the rest
    (a guess never takes a field the template already gives to another column)."""
    guessed = guess_mapping(headers, target, custom)
    chosen = {h: template[h] for h in headers if h in template}
    used = {f for f in chosen.values() if f}
    return {h: chosen[h] if h in chosen else (guessed[h] if guessed[h] not in used else None) for h in headers}
