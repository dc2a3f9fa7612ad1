"""One row of an import file on its way: cells → the services' input → cleaned by the services' rules,
with the search text it will be found by. Needs no database once its Context is loaded, so it runs in
worker processes for large files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from guanxi.core.customfields import clean_values
from guanxi.core.models import User
from guanxi.core.records import clean_fields, field_defs
from guanxi.core.services import assignable_users
from guanxi.quality.field_rules import Rules, may_change_sensitive, missing_required, rule_errors, rules_for
from guanxi.quality.normalize import (
    clean_text,
    normalize_email,
    normalize_phone,
    phone_search_keys,
    pinyin_keys,
    search_text,
)

from . import services
from .fileio import Row
from .import_kinds import kind_of
from .import_models import Import
from .models import Account, Contact

_TRUE = {"1", "true", "yes", "y", "是", "同意", "已同意", "订阅", "x", "√", "✓", "on"}
_FALSE = {"0", "false", "no", "n", "否", "不同意", "拒绝", "退订", "", "off"}
_COUNTRIES = {"中国": "CN", "中华人民共和国": "CN", "china": "CN", "prc": "CN", "中国大陆": "CN",
              "美国": "US", "usa": "US", "unitedstates": "US", "英国": "GB", "uk": "GB", "unitedkingdom": "GB",
              "香港": "HK", "hongkong": "HK", "台湾": "TW", "taiwan": "TW", "澳门": "MO", "macau": "MO",
              "日本": "JP", "japan": "JP", "新加坡": "SG", "singapore": "SG", "德国": "DE", "germany": "DE"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SPLIT = re.compile(r"[,，;；、|/]\s*|\s{2,}")
_CHOICE_FIELDS = {"contact": ("preferred_channel",),
                  "account": ("industry", "size", "classification", "source", "lifecycle_stage")}
_ADDRESS_PARTS = ("province", "city", "district", "street", "postcode", "country")


def _choice_table(model: type, name: str) -> dict[str, str]:
    """Typed text → stored value: the value itself or its label in either language, any case."""
    from django.utils import translation

    table: dict[str, str] = {}
    choices = model._meta.get_field(name).choices
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in choices:
                table[clean_text(str(label)).lower()] = value
    for value, _label in choices:
        table[value.lower()] = value
    return table


@dataclass
class Context:
    """What cleaning a row needs, loaded once per import run."""

    actor: User
    target: str
    mapping: dict[str, str | None]
    match_key: str
    defs: list
    owners: dict[str, tuple[int, int | None]]
    choices: dict[str, dict[str, str]]
    by_field: dict[str, str] = field(default_factory=dict)  # field → column
    headers: list[str] = field(default_factory=list)
    mobile_label: str = ""
    name_keys: dict[str, str] = field(default_factory=dict)  # a bounded cache of _name_key
    defaults: tuple[dict[str, Any], dict[str, list[str]]] = ({}, {})  # absent plain fields, cleaned once
    rules: Rules | None = None  # the administrators' field rules
    hold_sensitive: bool = False  # the actor's updates may not change sensitive fields

    def name_key(self, name: str, known: str = "") -> str:
        """The name's key for "same name at the same company"; `known` is the key a worker process
        already worked out (kept, so existing records with this name need no pinyin here)."""
        key = self.name_keys.get(name)
        if key is None:
            if len(self.name_keys) > 300_000:  # bounded: memory stays flat however long the file
                self.name_keys.clear()
            key = self.name_keys[name] = known or _name_key(name)
        return key

    @classmethod
    def load(cls, actor: User, imp: Import) -> Context:
        kind = kind_of(imp.target)
        if kind is not None:
            return kind.load(actor, imp)
        model = Contact if imp.target == "contact" else Account
        mapping = {h: imp.mapping.get(h) for h in imp.headers}
        owners = {}
        if "owner" in mapping.values():
            owners = {u.username.lower(): (u.pk, u.team_id) for u in assignable_users(actor).only("username",
                                                                                                   "team_id")}
        return cls(actor=actor, target=imp.target, mapping=mapping, match_key=imp.match_key,
                   defs=field_defs(imp.target), owners=owners,
                   choices={n: _choice_table(model, n) for n in _CHOICE_FIELDS[imp.target]},
                   by_field={f: h for h, f in mapping.items() if f}, headers=list(imp.headers),
                   mobile_label=str(_("Mobile")),
                   defaults=clean_fields(model, {"lifecycle_stage": "awareness"} if imp.target == "account" else {},
                                         services.CONTACT_FIELDS if imp.target == "contact" else
                                         services.ACCOUNT_FIELDS, partial=False),
                   rules=(rules := rules_for(imp.target)),
                   hold_sensitive=bool(rules.sensitive) and not may_change_sensitive(actor))


@dataclass
class Item:
    """One row on its way: what the file said, what it became, and what happens to it."""

    line: int
    cells: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # service error key → column
    provided: set[str] = field(default_factory=set)
    cleaned: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # column ("" = the row) → messages
    action: str = "new"  # new | update | reject | flag
    target_id: int | None = None
    reason: str = ""
    account_name: str = ""
    tags: list[str] = field(default_factory=list)
    external_id: str = ""
    owner: tuple[int, int | None] | None = None
    search: str = ""
    name_key: str = ""  # worked out with the search text (where the name's pinyin is at hand)
    missing: list[str] = field(default_factory=list)  # required fields the row leaves out: refused if it is new


def _choice(table: dict[str, str], text: str) -> str:
    """The stored value for typed text: exact (value or label), else the one label that contains it ("医疗"); when
    several do ("web": Website, Web form), the one with the shortest such label, if only one is that short."""
    key = clean_text(text).lower()
    if key in table:
        return table[key]
    near: dict[str, int] = {}
    for label, value in table.items():
        if key and key in label:
            near[value] = min(len(label), near.get(value, len(label)))
    if len(near) > 1:
        shortest = min(near.values())
        near = {value: n for value, n in near.items() if n == shortest}
    return next(iter(near)) if len(near) == 1 else text


def _date(text: str) -> str:
    m = _DATE.match(text)
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else text


def _to_data(ctx: Context, row: Row) -> Item:
    item = Item(row.line, row.values)
    if row.problems:
        item.errors[""] = [p.text if not p.params else _(p.message) % p.params for p in row.problems]
    data, sources = item.data, item.sources
    phones: list[dict] = []
    emails: list[dict] = []
    address: dict[str, str] = {}
    custom: dict[str, str] = {}
    for column, fld in ctx.mapping.items():
        if not fld:
            continue
        text = (row.values.get(column) or "").strip()
        if fld.startswith("custom."):
            if text:
                custom[fld[7:]] = text
                sources[fld] = column
            continue
        if not text:
            continue
        item.provided.add(fld)
        if fld in ("phone", "mobile") or (fld == "email" and ctx.target == "contact"):
            bucket = emails if fld == "email" else phones
            label = ctx.mobile_label if fld == "mobile" else ""
            for part in [p for p in _SPLIT.split(text) if p.strip()] if fld == "email" or "," in text \
                    or "，" in text or ";" in text else [text]:
                sources[f"{'emails' if fld == 'email' else 'phones'}.{len(bucket)}"] = column
                bucket.append({"value": part, "label": label})
        elif fld in ("address", *_ADDRESS_PARTS):
            address["line" if fld == "address" else fld] = text
        elif fld in ("family_name", "given_name", "account", "tags", "external_id", "owner"):
            if fld == "account":
                item.account_name = clean_text(text)[:200]
            elif fld == "tags":
                item.tags = [t.strip() for t in _SPLIT.split(text) if t.strip()]
                sources["tags"] = column
            elif fld == "external_id":
                item.external_id = clean_text(text)
                if len(item.external_id) > 100:
                    item.errors.setdefault(column, []).append(_("At most 100 characters."))
            elif fld == "owner":
                item.owner = ctx.owners.get(text.lower())
                if item.owner is None:
                    item.errors.setdefault(column, []).append(_("You may not assign records to this user."))
            else:
                data[fld] = text
        else:
            key = "description" if fld == "notes" else fld
            if key == "birthday":
                text = _date(text)
            elif key == "marketing_consent":
                lowered = text.lower()
                text = True if lowered in _TRUE else False if lowered in _FALSE else text
            elif key in ctx.choices:
                text = _choice(ctx.choices[key], text)
            data[key] = text
            sources[key] = column
    if ctx.target == "contact" and "name" not in data and ("family_name" in data or "given_name" in data):
        family, given = data.pop("family_name", ""), data.pop("given_name", "")
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in family + given)
        data["name"] = f"{family}{given}" if cjk else f"{given} {family}".strip()
        sources["name"] = ctx.by_field.get("family_name") or ctx.by_field.get("given_name") or ""
    data.pop("family_name", None)
    data.pop("given_name", None)
    if "name" not in sources:
        sources["name"] = ctx.by_field.get("name") or ctx.by_field.get("family_name") or \
            ctx.by_field.get("given_name", "")
    if ctx.target == "contact":
        data["phones"], data["emails"] = phones, emails
    else:
        if phones:
            data["phone"] = phones[0]["value"]
            sources["phone"] = sources.get("phones.0", "")
        if emails or "email" in ctx.by_field:
            data["email"] = (row.values.get(ctx.by_field.get("email", "")) or "").strip()
            sources["email"] = ctx.by_field.get("email", "")
    if address:
        country = address.get("country", "")
        if country:
            key = re.sub(r"[\s.]", "", clean_text(country)).lower()
            address["country"] = _COUNTRIES.get(key, country.upper() if len(country) == 2 else country)
        data["addresses"] = [address]
        for part, column in ctx.by_field.items():
            if part in _ADDRESS_PARTS or part == "address":
                sources[f"addresses.0.{part}"] = column
        sources["addresses.0.line"] = ctx.by_field.get("address", "")
    data["custom"] = custom
    return item


def _split_lines(items: list[Item]) -> None:
    """One cpca call for the chunk's one-line addresses (it costs a DataFrame per call)."""
    todo = [(it, a) for it in items for a in it.data.get("addresses", []) if a.get("line") and not a.get("province")]
    if not todo:
        return
    import cpca

    lines = [clean_text(a["line"]) for _it, a in todo]
    frame = cpca.transform(lines).to_dict("records")
    for (_it, address), parsed, line in zip(todo, frame, lines, strict=True):
        province, city = parsed.get("省") or "", parsed.get("市") or ""
        if city == "市辖区" or (not city and province in ("北京市", "天津市", "上海市", "重庆市")):
            city = province
        split = {"province": province, "city": city, "district": parsed.get("区") or "",
                 "street": (parsed.get("地址") or "") if province else line}
        address.pop("line")
        for key, value in split.items():
            address.setdefault(key, value)
        if not address["street"] and not province:
            address["street"] = line


def _column_of(item: Item, key: str) -> str:
    if key in item.sources:
        return item.sources[key]
    if key.startswith("addresses.0."):
        return item.sources.get("addresses.0.line", "")
    return item.sources.get(key.split(".")[0], "")


def _clean(ctx: Context, item: Item) -> None:
    """The services' rules on one row; errors end up under the column they came from."""
    if item.errors:
        item.action = "reject"
    data = item.data
    errors: dict[str, list[str]] = {}
    if isinstance(data.get("name"), str):
        data["name"] = clean_text(data["name"])
    model, names = (Contact, services.CONTACT_FIELDS) if ctx.target == "contact" else \
        (Account, services.ACCOUNT_FIELDS)
    if ctx.target == "account" and "lifecycle_stage" not in data:
        data["lifecycle_stage"] = "awareness"
    # Only the fields the row gives are validated one by one; an absent field gets its default, whose
    # cleaned value (or error: a required name) is the same for every row and was worked out once.
    cleaned, errs = clean_fields(model, data, [n for n in names if n in data], partial=True)
    defaults, default_errors = ctx.defaults
    for name in names:
        if name not in data:
            if name in default_errors:
                errs[name] = default_errors[name]
            else:
                cleaned[name] = defaults[name]
    errors.update(errs)
    if ctx.target == "contact":
        cleaned["methods"] = services._clean_methods(data, errors) or []
    else:
        region = settings.PHONE_REGION
        cleaned["phone"] = services.clean_normalized(lambda v: normalize_phone(v, region), data.get("phone"),
                                                  "phone", errors)
        cleaned["email"] = services.clean_normalized(normalize_email, data.get("email"), "email", errors)
    cleaned["addresses"] = services._clean_addresses(data, errors) if "addresses" in data else []
    custom, errs = clean_values(ctx.defs, data["custom"], partial=False, current={})
    errors.update(errs)
    cleaned["custom"] = custom
    if any(len(t) > 50 for t in item.tags):
        errors["tags"] = [_("A tag has at most 50 characters.")]
    _check_rules(ctx, item, cleaned, errors)
    for key, messages in errors.items():
        item.errors.setdefault(_column_of(item, key), []).extend(str(m) for m in messages)
    item.cleaned = cleaned
    if item.errors:
        item.action = "reject"




def _check_rules(ctx: Context, item: Item, cleaned: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Field patterns on what the row gives; required fields it leaves out only matter if it creates a record
    (an update keeps what the record has), which the plan decides."""
    rules = ctx.rules
    if rules is None or not (rules.required or rules.patterns):
        return
    values = services.rule_values(ctx.target, cleaned)
    if ctx.target == "contact":
        values["accounts"] = [item.account_name] if item.account_name else []
    values["tags"] = item.tags
    for key, messages in rule_errors(rules, values, creating=True, patterns_only=True).items():
        errors.setdefault(key, messages)
    item.missing = [str(f.label) for f in missing_required(rules, values, creating=True)]


def _name_key(name: str) -> str:
    keys = pinyin_keys(name)
    return keys[0] if keys and any("\u4e00" <= ch <= "\u9fff" for ch in name) else clean_text(name).lower()


def _fast_phone_keys(e164: str) -> list[str]:
    for code in ("+86", "+1", "+44"):  # the national number after these codes is the rest of the string
        if e164.startswith(code):
            return [e164[1:], e164[len(code):]]
    return phone_search_keys(e164)


@lru_cache(maxsize=300_000)
def _name_text(name: str) -> str:
    return search_text(names=[name])


def contact_text(name: str, methods: list[tuple]) -> str:
    """search_text(names=[name], phones=…, emails=…) without parsing common phone numbers again; the
    name's part is cached (names repeat)."""
    rest = dict.fromkeys([key for m in methods if m[0] == "phone" for key in _fast_phone_keys(m[2])]
                         + [m[2].lower() for m in methods if m[0] == "email"])
    base = _name_text(name)
    if not rest:
        return base
    return f"{base} {' '.join(rest)}" if base else " ".join(rest)


def prepare(ctx: Context, rows: list[Row]) -> list[Item]:
    """The part of planning that needs no database: mapping, splitting addresses, cleaning, search text.
    Runs in a worker process for large files."""
    kind = kind_of(ctx.target)
    if kind is not None:
        return kind.prepare(ctx, rows)
    items = [_to_data(ctx, row) for row in rows]
    _split_lines(items)
    for it in items:
        _clean(ctx, it)
        if ctx.target == "contact" and it.action != "reject":
            it.search = contact_text(it.cleaned["name"], it.cleaned["methods"])
            if it.account_name:
                it.name_key = ctx.name_key(it.cleaned["name"])
        it.data, it.sources = {}, {}  # done with: less to send back from a worker process
    return items
