"""Demo rows, generated without Django: one chunk of accounts with their contacts at a time.

A chunk depends only on the plan and its own number (its random generator is seeded by both), so
chunks can be built in any order or in parallel processes and the data stays the same for a seed.
Values that must be unique (phones, QQ numbers, landlines) come from a permutation of the global row
index rather than from a shared "seen" set.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

import phonenumbers

from guanxi.quality.normalize import phone_search_keys, pinyin_keys, search_text

from . import demo_vocab as V

# Column order of each table, as the loader inserts them.
ACCOUNT_COLS = ("id", "name", "industry", "size", "classification", "source", "lifecycle_stage", "website",
                "phone", "email", "description", "search_text", "owner_id", "team_id", "version", "custom",
                "created_at", "updated_at")
CONTACT_COLS = ("id", "name", "title", "department", "primary_account_id", "phone", "email", "birthday",
                "preferred_channel", "marketing_consent", "consent_changed_at", "description", "search_text",
                "owner_id", "team_id", "version", "custom", "created_at", "updated_at")
METHOD_COLS = ("contact_id", "kind", "value", "normalized", "label", "is_primary")
ADDRESS_COLS = ("account_id", "kind", "country", "province", "city", "district", "street", "postcode")
CONTACT_ACCOUNT_COLS = ("contact_id", "account_id")
CONTACT_TAG_COLS = ("contact_id", "tag_id")
ACCOUNT_TAG_COLS = ("account_id", "tag_id")
NOTE_COLS = ("account_id", "contact_id", "author_id", "body", "created_at")
ACCOUNT_NAME, ACCOUNT_SEARCH, ACCOUNT_PHONE, ACCOUNT_EMAIL = 1, 11, 8, 9

_INDUSTRIES = list(V.INDUSTRY_WORDS)
_INDUSTRY_CUM = list(accumulate((14, 8, 16, 5, 12, 4, 8, 6, 9, 7, 11)))
_CLASS_CUM = list(accumulate((10, 25, 40, 25)))
_STAGES = ("awareness", "acquisition", "growth", "maturity", "decline", "lost")
_STAGE_CUM = list(accumulate((15, 20, 25, 25, 10, 5)))
_SIZES = ("1-9", "10-49", "50-249", "250-999", "1000+")
_SIZE_CUM = list(accumulate((20, 35, 25, 12, 8)))
_SOURCES = ("referral", "website", "exhibition", "cold_call", "advertising", "partner", "social", "other")
_CHANNELS = ("phone", "email", "wechat", "sms", "visit")
_SECONDS_3Y = 3 * 365 * 86400
_PHONE_SPACE = 10 ** 8


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs; plain values only, so it can be sent to another process."""

    seed: int
    n_accounts: int
    n_contacts: int
    account_base: int
    contact_base: int
    reps: dict[str, list[tuple[int, int]]]  # region (team name) → [(user id, team id)]
    tag_ids: list[int]
    anchor: dt.datetime  # "now", UTC, whole seconds
    sqlite: bool  # datetimes and dates as text (SQLite) or objects (PostgreSQL)
    chunk_accounts: int = 1000

    @property
    def chunks(self) -> int:
        return -(-self.n_accounts // self.chunk_accounts)

    def contact_range(self, chunk: int) -> tuple[int, int, int, int]:
        a0 = chunk * self.chunk_accounts
        a1 = min(self.n_accounts, a0 + self.chunk_accounts)
        return a0, a1, self.n_contacts * a0 // self.n_accounts, self.n_contacts * a1 // self.n_accounts


@dataclass
class Rows:
    accounts: list[tuple] = field(default_factory=list)
    addresses: list[tuple] = field(default_factory=list)
    account_tags: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    methods: list[tuple] = field(default_factory=list)
    contact_accounts: list[tuple] = field(default_factory=list)
    contact_tags: list[tuple] = field(default_factory=list)
    notes: list[tuple] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)  # per account, for renaming duplicates


def _permute(index: int, seed: int, space: int = _PHONE_SPACE) -> int:
    """A bijection on range(space) (space a power of ten): distinct rows get distinct numbers."""
    return (index * 7654321 + seed * 7919 + 12345) % space


@lru_cache(maxsize=64)
def _local_length(area: str) -> int:
    """Digits of a local number after this Chinese area code, as phonenumbers validates them."""
    for length in (8, 7):
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+86{area}2{'3' * (length - 1)}")):
            return length
    return 8


@lru_cache(maxsize=8192)
def _py(text: str) -> str:
    keys = pinyin_keys(text)
    return keys[0] if keys else text.lower()


@lru_cache(maxsize=200_000)
def _name_text(name: str) -> str:
    return search_text(names=[name])


def _phone_keys(e164: str) -> list[str]:
    """phone_search_keys() for the numbers generated here, without parsing them again."""
    for code in ("+86", "+44", "+1"):
        if e164.startswith(code):
            return [e164[1:], e164[len(code):]]
    return phone_search_keys(e164)  # pragma: no cover - every generated number has one of those codes


def _contact_text(name: str, phones: list[str], email: str) -> str:
    """Equal to search_text(names=[name], phones=phones, emails=[email]) (tests check it on every row),
    but faster: the name part is cached (names repeat) and the generated phones need no parsing. A name
    key is never a digit string nor an address, so joining the two parts dedups the same way."""
    rest = dict.fromkeys(key for phone in phones for key in _phone_keys(phone))
    rest[email.lower()] = None
    return f"{_name_text(name)} {' '.join(rest)}"


class _Gen:
    def __init__(self, plan: Plan, chunk: int) -> None:
        self.plan = plan
        self.rng = random.Random(f"guanxi-demo:{plan.seed}:{chunk}")
        # Customers sit in their owner's sales region; reps outside the regions own customers anywhere.
        self.regions = [r for r in V.REGIONS if plan.reps.get(r)] or list(V.REGIONS)
        self.all_reps = sorted(rep for reps in plan.reps.values() for rep in reps)
        self.naive_anchor = plan.anchor.astimezone(dt.UTC).replace(tzinfo=None)

    # -------------------------------------------------------------- values
    def ts(self, seconds_ago: int) -> object:
        if self.plan.sqlite:  # as Django stores it there: naive UTC text
            return (self.naive_anchor - dt.timedelta(seconds=seconds_ago)).isoformat(" ")
        return self.plan.anchor - dt.timedelta(seconds=seconds_ago)

    def date(self, value: dt.date) -> object:
        return value.isoformat() if self.plan.sqlite else value

    def pick(self, seq, cum):
        return self.rng.choices(seq, cum_weights=cum)[0]

    def cn_mobile(self, index: int) -> tuple[str, str]:
        prefix = self.rng.choice(V.MOBILE_PREFIXES)
        rest = f"{_permute(index, self.plan.seed):08d}"
        return f"{prefix} {rest[:4]} {rest[4:]}", f"+86{prefix}{rest}"

    def foreign_phone(self, index: int, country: str, area: str, mobile: bool) -> tuple[str, str]:
        n = _permute(index, self.plan.seed)
        if country == "US":
            exchange, line = 200 + (n // 10000) % 800, n % 10000
            return f"+1 {area}-{exchange}-{line:04d}", f"+1{area}{exchange}{line:04d}"
        if mobile:
            digits = f"7{700 + n % 300}{n // 1000 % 1000000:06d}"
            return f"+44 {digits[:4]} {digits[4:]}", f"+44{digits}"
        local = f"{n % 10 ** (10 - len(area)):0{10 - len(area)}d}"
        local = ("7" if area == "20" else "2") + local[1:]
        return f"+44 {area} {local}", f"+44{area}{local}"

    # -------------------------------------------------------------- accounts
    def chinese_account(self, index: int) -> dict:
        rng = self.rng
        region = rng.choice(self.regions)
        short, province, city, districts, area, postcode, _en = rng.choice(V.REGIONS[region])
        industry = self.pick(_INDUSTRIES, _INDUSTRY_CUM)
        word = rng.choice(V.INDUSTRY_WORDS[industry])
        first = rng.choice(V.BRAND_FIRST)
        second = rng.choice(V.BRAND_SECOND.replace(first, ""))
        brand = first + second
        suffix = rng.choice(V.COMPANY_SUFFIXES)
        if word.endswith("科技") and suffix.startswith("科技"):
            suffix = suffix[2:]
        tld = rng.choice(("com", "com.cn", "cn"))
        word_keys = pinyin_keys(word)
        domain = f"{_py(brand)}{word_keys[1] if len(word_keys) > 1 else 'co'}.{tld}"
        length = _local_length(area)
        local = f"{_permute(index, self.plan.seed) % 10 ** (length - 1):0{length - 1}d}"
        phone = f"+86{area}{rng.choice('2345678')}{local}"
        district = rng.choice(districts)
        street = f"{rng.choice(V.ROADS)}{rng.randint(1, 999)}号{rng.choice(V.BUILDINGS)}"
        if street.endswith(("大厦", "中心", "广场")):
            street += f"{rng.randint(2, 30)}层"
        return {
            "name": f"{short}{brand}{word}{suffix}", "industry": industry, "region": region, "domain": domain,
            "phone": phone, "chinese": True,
            "address": ("CN", province, city, district, street, f"{postcode}{rng.randint(0, 999):03d}"),
        }

    def english_account(self, index: int) -> dict:
        rng = self.rng
        industry = self.pick(_INDUSTRIES, _INDUSTRY_CUM)
        prefix = rng.choice(V.EN_PREFIXES)
        word = rng.choice(V.INDUSTRY_WORDS_EN[industry])
        if rng.random() < 0.5:  # a foreign firm's subsidiary in China
            region = rng.choice(self.regions)
            short, province, city, districts, area, postcode, city_en = rng.choice(V.REGIONS[region])
            name = f"{prefix} {word} ({city_en}) Co., Ltd."
            length = _local_length(area)
            local = f"{_permute(index, self.plan.seed) % 10 ** (length - 1):0{length - 1}d}"
            phone = f"+86{area}{rng.choice('2345678')}{local}"
            street = f"{rng.choice(V.ROADS)}{rng.randint(1, 999)}号"
            address = ("CN", province, city, rng.choice(districts), street, f"{postcode}{rng.randint(0, 999):03d}")
            tld = "com.cn"
        else:
            region = ""
            country, state, city, areas, postcode, _prefix = rng.choice(V.ABROAD)
            name = f"{prefix} {word} {rng.choice(V.COMPANY_SUFFIXES_EN)}"
            area = rng.choice(areas)
            _value, phone = self.foreign_phone(index, country, area, mobile=False)
            street = f"{rng.randint(1, 400)} {rng.choice(V.STREETS_EN)}"
            address = (country, state, city, "", street, postcode.format(rng.randint(1, 20)))
            tld = "co.uk" if country == "GB" else "com"
        domain = f"{prefix.replace(' ', '').lower()}{word.lower()}.{tld}"
        return {"name": name, "industry": industry, "region": region, "domain": domain, "phone": phone,
                "chinese": False, "address": address, "area": area}

    def account(self, index: int, rows: Rows) -> tuple[int, tuple[int, int], dict]:
        rng, plan = self.rng, self.plan
        info = self.english_account(index) if rng.random() < 0.12 else self.chinese_account(index)
        reps = plan.reps.get(info["region"]) or self.all_reps
        owner, team = rng.choice(reps)
        account_id = plan.account_base + index
        email = f"info@{info['domain']}"
        custom = {}
        if rng.random() < 0.7:
            custom["channel"] = rng.choice(V.CHANNELS)
        if rng.random() < 0.6:
            custom["annual_purchase"] = f"{rng.randint(5, 5000) * 1000}.00"
        created = rng.randrange(_SECONDS_3Y)
        rows.accounts.append((
            account_id, info["name"], info["industry"], self.pick(_SIZES, _SIZE_CUM),
            self.pick("ABCD", _CLASS_CUM), rng.choice(_SOURCES), self.pick(_STAGES, _STAGE_CUM),
            f"https://www.{info['domain']}", info["phone"], email, "",
            search_text(names=[info["name"]], phones=[info["phone"]], emails=[email]),
            owner, team, 1, json.dumps(custom), self.ts(created), self.ts(rng.randrange(created + 1)),
        ))
        rows.addresses.append((account_id, "office", *info["address"]))
        rows.districts.append(info["address"][3] or info["address"][2])
        if rng.random() < 0.2:
            for tag in rng.sample(plan.tag_ids, min(len(plan.tag_ids), rng.randint(1, 2))):
                rows.account_tags.append((account_id, tag))
        if rng.random() < 0.1:
            rows.notes.append((account_id, None, owner, rng.choice(V.NOTES), self.ts(rng.randrange(created + 1))))
        return account_id, (owner, team), info

    # -------------------------------------------------------------- contacts
    def person(self, chinese: bool) -> tuple[str, str, str]:
        """(display name, surname pinyin/last name, given pinyin/first name)."""
        rng = self.rng
        if chinese:
            surname = rng.choice(V.COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(V.SURNAMES)
            given = rng.choice(V.GIVEN_SINGLE) if rng.random() < 0.3 else \
                rng.choice(V.GIVEN_FIRST) + rng.choice(V.GIVEN_SECOND)
            return surname + given, _py(surname), _py(given)
        first, last = rng.choice(V.FIRST_NAMES_EN), rng.choice(V.LAST_NAMES_EN)
        return f"{first} {last}", last.lower(), first.lower()

    def contact(self, index: int, account_id: int, owner: tuple[int, int], info: dict, rows: Rows,
                second_account: int | None) -> None:
        rng, plan = self.rng, self.plan
        chinese = info["chinese"] or rng.random() < 0.3
        name, family, given = self.person(chinese)
        contact_id = plan.contact_base + index
        abroad = info["address"][0] != "CN"
        if abroad:
            value, phone = self.foreign_phone(index, info["address"][0], info["area"], mobile=True)
        else:
            value, phone = self.cn_mobile(index)
        methods = [(contact_id, "phone", value, phone, "手机" if chinese else "mobile", True)]
        if rng.random() < 0.75:
            local = f"{given}.{family}" if not chinese else rng.choice(
                (f"{family}{given}", f"{given}.{family}", f"{family}.{given}"))
            email = f"{local}@{info['domain']}"
        elif chinese and rng.random() < 0.5:
            email = f"{10 ** 8 + _permute(index, plan.seed + 1, 10 ** 9)}@qq.com"
        else:
            email = f"{family}{given}{rng.randint(1, 999)}@{rng.choice(V.PUBLIC_MAIL)}"
        methods.append((contact_id, "email", email, email, "", True))
        if rng.random() < 0.1 and not abroad:
            office = info["phone"]
            methods.append((contact_id, "phone", office, office, "办公", False))
        rows.methods.extend(methods)
        phones = [m[3] for m in methods if m[1] == "phone"]
        created = rng.randrange(_SECONDS_3Y)
        consent = rng.random() < 0.6
        birthday = self.date(dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365))) \
            if rng.random() < 0.3 else None
        custom = {"wechat": f"wx_{family}{given}{rng.randint(1, 9999)}"} if chinese and rng.random() < 0.3 else {}
        rows.contacts.append((
            contact_id, name,
            rng.choice(V.TITLES if chinese else V.TITLES_EN),
            rng.choice(V.DEPARTMENTS if chinese else V.DEPARTMENTS_EN),
            account_id, phone, email, birthday, rng.choice(_CHANNELS) if rng.random() < 0.5 else "",
            consent, self.ts(created) if consent else None, "",
            _contact_text(name, phones, email),
            owner[0], owner[1], 1, json.dumps(custom) if custom else "{}",
            self.ts(created), self.ts(rng.randrange(created + 1)),
        ))
        rows.contact_accounts.append((contact_id, account_id))
        if second_account is not None and second_account != account_id:
            rows.contact_accounts.append((contact_id, second_account))
        if rng.random() < 0.1:
            rows.contact_tags.append((contact_id, rng.choice(plan.tag_ids)))
        if rng.random() < 0.15:
            rows.notes.append((None, contact_id, owner[0], rng.choice(V.NOTES), self.ts(rng.randrange(created + 1))))


def build_chunk(plan: Plan, chunk: int) -> Rows:
    """The rows of accounts [a0, a1) and their contacts [c0, c1) for chunk number `chunk`."""
    gen = _Gen(plan, chunk)
    rows = Rows()
    a0, a1, c0, c1 = plan.contact_range(chunk)
    made = [gen.account(i, rows) for i in range(a0, a1)]
    for n, index in enumerate(range(c0, c1)):
        account_id, owner, info = made[n] if n < len(made) else gen.rng.choice(made)
        second = gen.rng.choice(made)[0] if gen.rng.random() < 0.03 else None
        gen.contact(index, account_id, owner, info, rows, second)
    return rows
