"""Importing accounts and contacts: upload → mapping → preview → commit (a job) → undo (a job).

Rows are cleaned by the same rules as the UI and the API (services' cleaning helpers, clean_fields,
custom field validation), but a chunk at a time: look-ups (companies, tags, match keys, possible
duplicates) are one query per chunk, never one per row, and new records are written with multi-row
inserts. Each chunk is one transaction that also writes its ImportBatch (checkpoint + undo log), so
a crash leaves whole chunks only and a resumed job starts after the last one committed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from guanxi.core.customfields import clean_values
from guanxi.core.jobs import progress, start_job, tracked
from guanxi.core.models import AuditAction, AuditEntry, CustomField, JobProgress, Tag, User
from guanxi.core.records import clean_fields, field_defs, write_audit
from guanxi.core.services import assignable_users
from guanxi.quality.normalize import (
    clean_text,
    normalize_email,
    normalize_phone,
    phone_search_keys,
    pinyin_keys,
    search_text,
)

from . import services
from .fileio import FIELDS, FileFormatError, Row, check_mapping, guess_mapping, open_rows
from .fileio import apply_template as _apply_template
from .fileio import rejected_csv_chunks as _rejected_csv_chunks
from .import_models import ExternalKey, Import, ImportBatch, ImportStatus, ImportTemplate
from .models import Account, Address, Contact, ContactMethod

log = logging.getLogger(__name__)

CHUNK = 2000
PREVIEW_PAGE = 50
JOB_IMPORT = "import"
JOB_UNDO = "import_undo"
MATCH_KEYS = ("email", "phone", "external_id")
_BATCH_ROWS = 500  # rows per multi-row INSERT on SQLite (999 variables on old builds; we stay well below)


def max_bytes() -> int:
    """The largest upload (GUANXI_IMPORT_MAX_BYTES)."""
    return settings.IMPORT_MAX_BYTES


def import_dir() -> Path:
    path = Path(settings.HOME) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(imp: Import) -> Path:
    return import_dir() / imp.stored_name


def _require_editor(actor: User) -> None:
    if not getattr(actor, "can_edit", False):
        raise PermissionDenied(_("Your role may not change records."))


def _file_error(exc: FileFormatError) -> ValidationError:
    text = _(exc.message) % exc.params if exc.params else _(exc.message)
    if exc.line:
        text = _("Line %(line)d: %(message)s") % {"line": exc.line, "message": text}
    return ValidationError({"file": [text]})


def visible_imports(actor: User):
    """Imports a user may look at: their own; an administrator's, all."""
    qs = Import.objects.select_related("user", "job", "undo_job")
    return qs if actor.is_administrator else qs.filter(user=actor)


# ------------------------------------------------------------------ upload and mapping

def custom_labels(target: str) -> dict[str, str]:
    return {f.key: f.label for f in CustomField.objects.filter(model=target, active=True)}


def upload(actor: User, target: str, source: IO[bytes], filename: str) -> Import:
    """Store the file under GUANXI_HOME/imports/ and read its header; a file that cannot be read is
    a field error on "file" and nothing is kept."""
    _require_editor(actor)
    if target not in FIELDS:
        raise ValidationError({"target": [_("Choose contacts or accounts.")]})
    limit = max_bytes()
    stored = f"{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"
    path = import_dir() / stored
    size = 0
    try:
        with open(path, "wb") as out:
            while block := source.read(1 << 20):
                size += len(block)
                if size > limit:  # stop copying at the limit: a 2 GB upload never lands on disk whole
                    from .fileio.textio import too_large

                    raise too_large(size, limit)
                out.write(block)
        if size == 0:
            raise ValidationError({"file": [_("The file is empty.")]})
        with open_rows(path, filename, max_bytes=limit) as table:
            headers = table.headers
            fmt = table.format
            for _n, _row in zip(range(100), table, strict=False):  # a bad start is reported now, not later
                pass
            encoding = table.encoding
    except FileFormatError as exc:
        path.unlink(missing_ok=True)
        raise _file_error(exc)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    mapping = guess_mapping(headers, target, custom_labels(target))
    return Import.objects.create(user=actor, target=target, file_name=Path(filename).name[:255] or stored,
                                 stored_name=stored, size=size, format=fmt, encoding=encoding,
                                 headers=headers, mapping=mapping)


def _check_editable(actor: User, imp: Import) -> None:
    _require_editor(actor)
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    if imp.status != ImportStatus.UPLOADED:
        raise ValidationError({"__all__": [_("This import has already been started.")]})


def mapping_errors(imp: Import, mapping: dict[str, str | None], match_key: str) -> dict[str, list[str]]:
    keys = list(custom_labels(imp.target))
    errors: dict[str, list[str]] = {}
    for message, params in check_mapping(mapping, imp.target, keys):
        errors.setdefault("mapping", []).append(_(message) % params)
    unknown = [h for h in mapping if h not in imp.headers]
    if unknown:
        errors.setdefault("mapping", []).append(_("Unknown column: %(columns)s.") % {"columns": ", ".join(unknown)})
    fields = {f for f in mapping.values() if f}
    if not ({"name", "family_name", "given_name"} & fields if imp.target == "contact" else "name" in fields):
        errors.setdefault("mapping", []).append(_("Map a column to the name."))
    if match_key:
        allowed = set(MATCH_KEYS) | {f"custom.{k}" for k in keys}
        if match_key not in allowed:
            errors["match_key"] = [_("Not a field records can be matched by.")]
        elif not (match_key in fields or (match_key == "phone" and "mobile" in fields)):
            errors["match_key"] = [_("Map a column to this field to match by it.")]
    return errors


def set_mapping(actor: User, imp: Import, mapping: dict[str, str | None], match_key: str = "",
                template_name: str = "") -> Import:
    """Check and keep the mapping (and the match key); save it as a template when a name is given."""
    _check_editable(actor, imp)
    mapping = {str(h): (str(f) if f else None) for h, f in (mapping or {}).items()}
    mapping = {h: mapping.get(h) for h in imp.headers}
    match_key = (match_key or "").strip()
    errors = mapping_errors(imp, mapping, match_key)
    template_name = (template_name or "").strip()
    if len(template_name) > 100:
        errors["template_name"] = [_("At most 100 characters.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        imp.mapping, imp.match_key = mapping, match_key
        imp.save(update_fields=["mapping", "match_key"])
        if template_name:
            ImportTemplate.objects.update_or_create(user=actor, target=imp.target, name=template_name,
                                                    defaults={"mapping": {h: f for h, f in mapping.items() if f}})
    return imp


def templates_for(actor: User, target: str):
    return ImportTemplate.objects.filter(user=actor, target=target)


def apply_template(actor: User, imp: Import, template_id: Any) -> dict[str, str | None]:
    """The template's mapping fitted to this file's headers (guesses for the headers it does not know)."""
    template = templates_for(actor, imp.target).filter(pk=services._int_or_none(template_id)).first()
    if template is None:
        raise ValidationError({"template": [_("No such template.")]})
    return _apply_template(imp.headers, template.mapping, imp.target, custom_labels(imp.target))


# ------------------------------------------------------------------ one row: cells → service data → cleaned

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

    def name_key(self, name: str) -> str:
        key = self.name_keys.get(name)
        if key is None:
            if len(self.name_keys) > 300_000:  # bounded: memory stays flat however long the file
                self.name_keys.clear()
            key = self.name_keys[name] = _name_key(name)
        return key

    @classmethod
    def load(cls, actor: User, imp: Import) -> Context:
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
                   mobile_label=str(_("Mobile")))


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


def _choice(table: dict[str, str], text: str) -> str:
    """The stored value for typed text: exact (value or label), else the one label that contains it ("医疗")."""
    key = clean_text(text).lower()
    if key in table:
        return table[key]
    near = {value for label, value in table.items() if key and key in label}
    return near.pop() if len(near) == 1 else text


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
    cleaned, errs = clean_fields(model, data, names, partial=False)
    errors.update(errs)
    if ctx.target == "contact":
        cleaned["methods"] = services._clean_methods(data, errors) or []
    else:
        region = settings.PHONE_REGION
        cleaned["phone"] = services._clean_single(lambda v: normalize_phone(v, region), data.get("phone"),
                                                  "phone", errors)
        cleaned["email"] = services._clean_single(normalize_email, data.get("email"), "email", errors)
    cleaned["addresses"] = services._clean_addresses(data, errors) if "addresses" in data else []
    custom, errs = clean_values(ctx.defs, data["custom"], partial=False, current={})
    errors.update(errs)
    cleaned["custom"] = custom
    if any(len(t) > 50 for t in item.tags):
        errors["tags"] = [_("A tag has at most 50 characters.")]
    for key, messages in errors.items():
        item.errors.setdefault(_column_of(item, key), []).extend(str(m) for m in messages)
    item.cleaned = cleaned
    if item.errors:
        item.action = "reject"


# ------------------------------------------------------------------ a chunk: look-ups, matches, duplicates

def _match_value(ctx: Context, item: Item) -> str | None:
    key, c = ctx.match_key, item.cleaned
    if key == "email":
        return next((m[2] for m in c.get("methods", []) if m[0] == "email"), None) if ctx.target == "contact" \
            else (c.get("email") or None)
    if key == "phone":
        return next((m[2] for m in c.get("methods", []) if m[0] == "phone"), None) if ctx.target == "contact" \
            else (c.get("phone") or None)
    if key == "external_id":
        return item.external_id or None
    if key.startswith("custom."):
        value = c.get("custom", {}).get(key[7:])
        return None if value in (None, "") else value
    return None


def _visible_ids(ctx: Context, model: type) -> Any:
    """A subquery of the ids the actor may edit, or None when that is every row (an administrator)."""
    return None if ctx.actor.is_administrator else model.objects.editable_by(ctx.actor).values("pk")


def _find_matches(ctx: Context, items: list[Item]) -> dict[Any, list[int]]:
    values = {v for it in items if (v := _match_value(ctx, it)) is not None}
    if not values:
        return {}
    model = Contact if ctx.target == "contact" else Account
    visible = _visible_ids(ctx, model)
    found: dict[Any, list[int]] = {}
    key = ctx.match_key
    if key in ("email", "phone") and ctx.target == "contact":
        qs = ContactMethod.objects.filter(kind=key, normalized__in=values)
        if visible is not None:
            qs = qs.filter(contact_id__in=visible)
        pairs = qs.values_list("normalized", "contact_id")
    elif key in ("email", "phone"):
        qs = model.objects.filter(**{f"{key}__in": values})
        pairs = (qs if visible is None else qs.filter(pk__in=visible)).values_list(key, "pk")
    elif key == "external_id":
        qs = ExternalKey.objects.filter(target=ctx.target, key__in=values)
        if visible is not None:
            qs = qs.filter(object_id__in=visible)
        pairs = qs.values_list("key", "object_id")
    else:
        name = key[7:]
        qs = model.objects.filter(**{f"custom__{name}__in": list(values)})
        rows = (qs if visible is None else qs.filter(pk__in=visible)).values_list("pk", "custom")
        pairs = [(c.get(name), pk) for pk, c in rows]
    for value, pk in pairs:
        if pk not in found.setdefault(value, []):
            found[value].append(pk)
    return found


def _name_key(name: str) -> str:
    keys = pinyin_keys(name)
    return keys[0] if keys and any("\u4e00" <= ch <= "\u9fff" for ch in name) else clean_text(name).lower()


def _resolve_accounts(ctx: Context, items: list[Item]) -> dict[str, int]:
    names = {it.account_name for it in items if it.account_name}
    if not names:
        return {}
    qs = Account.objects.visible_to(ctx.actor).filter(name__in=names).order_by("pk").values_list("name", "pk")
    found: dict[str, int] = {}
    for name, pk in qs:
        found.setdefault(name, pk)
    return found


def _flag_duplicates(ctx: Context, items: list[Item], accounts: dict[str, int]) -> None:
    """Rows without a match-key hit that look like a record the actor can see, or like an earlier row
    of the same chunk: same normalised phone or email, or same name (pinyin) at the same company."""
    fresh = [it for it in items if it.action == "new"]
    if not fresh:
        return
    visible = None if ctx.actor.is_administrator else \
        (Contact if ctx.target == "contact" else Account).objects.visible_to(ctx.actor).values("pk")
    known: dict[tuple[str, Any], int] = {}
    if ctx.target == "contact":
        keys = {(m[0], m[2]) for it in fresh for m in it.cleaned["methods"]}
        if keys:
            qs = ContactMethod.objects.filter(normalized__in={k[1] for k in keys})
            if visible is not None:
                qs = qs.filter(contact_id__in=visible)
            for kind, normalized, pk in qs.values_list("kind", "normalized", "contact_id"):
                known.setdefault((kind, normalized), pk)
        account_ids = {accounts[it.account_name] for it in fresh if it.account_name in accounts}
        if account_ids:
            qs = Contact.objects.filter(primary_account_id__in=account_ids)
            if visible is not None:
                qs = qs.filter(pk__in=visible)
            for pk, name, account_id in qs.values_list("pk", "name", "primary_account_id"):
                known.setdefault(("name", (ctx.name_key(name), account_id)), pk)
    else:
        names = {it.cleaned.get("name", "") for it in fresh}
        phones = {it.cleaned["phone"] for it in fresh if it.cleaned.get("phone")}
        emails = {it.cleaned["email"] for it in fresh if it.cleaned.get("email")}
        qs = Account.objects.filter(name__in=names) | Account.objects.filter(phone__in=phones) | \
            Account.objects.filter(email__in=emails)
        if visible is not None:
            qs = qs.filter(pk__in=visible)
        for pk, name, phone, email in qs.values_list("pk", "name", "phone", "email"):
            known.setdefault(("name", name.lower()), pk)
            if phone:
                known.setdefault(("phone", phone), pk)
            if email:
                known.setdefault(("email", email), pk)
    seen: dict[tuple[str, Any], int] = {}
    reasons = {"phone": _("same phone"), "email": _("same email"), "name": _("same name at the same company")}
    for it in fresh:
        if ctx.target == "contact":
            keys = [(m[0], m[2]) for m in it.cleaned["methods"]]
            account = accounts.get(it.account_name) or (("new", it.account_name) if it.account_name else None)
            if account is not None:
                keys.append(("name", (ctx.name_key(it.cleaned["name"]), account)))
        else:
            keys = [("name", it.cleaned["name"].lower())] + \
                [(k, it.cleaned[k]) for k in ("phone", "email") if it.cleaned.get(k)]
        for key in keys:
            if key in known:
                it.action, it.target_id = "flag", known[key]
                it.reason = _("Possible duplicate of record %(id)s (%(why)s).") % {"id": known[key],
                                                                                  "why": reasons[key[0]]}
                break
            if key in seen:
                it.action = "flag"
                it.reason = _("Possible duplicate of line %(line)s of this file (%(why)s).") % {
                    "line": seen[key], "why": reasons[key[0]]}
                break
        for key in keys:
            seen.setdefault(key, it.line)


def plan_chunk(ctx: Context, rows: list[Row]) -> tuple[list[Item], dict[str, int]]:
    """Every row of the chunk cleaned and decided (new, update, reject, flag), with a fixed number of
    queries; nothing is written. Returns the items and the existing companies by name."""
    return decide(ctx, prepare(ctx, rows))


def prepare(ctx: Context, rows: list[Row]) -> list[Item]:
    """The part of planning that needs no database: mapping, splitting addresses, cleaning, search text.
    Runs in a worker process for large files."""
    items = [_to_data(ctx, row) for row in rows]
    _split_lines(items)
    for it in items:
        _clean(ctx, it)
        if ctx.target == "contact" and it.action != "reject":
            it.search = _contact_text(it.cleaned["name"], it.cleaned["methods"])
    return items


def decide(ctx: Context, items: list[Item]) -> tuple[list[Item], dict[str, int]]:
    """Match keys, companies and possible duplicates for cleaned items: a fixed number of queries."""
    valid = [it for it in items if it.action != "reject"]
    if ctx.match_key:
        matches = _find_matches(ctx, valid)
        claimed: dict[int, int] = {}
        for it in valid:
            value = _match_value(ctx, it)
            hits = matches.get(value, []) if value is not None else []
            if len(hits) > 1:
                it.action, it.reason = "flag", _("Several records have this %(key)s: %(ids)s.") % {
                    "key": ctx.match_key, "ids": ", ".join(map(str, hits[:5]))}
            elif hits:
                if hits[0] in claimed:  # two rows for one record: the second is for a person to look at
                    it.action, it.target_id = "flag", hits[0]
                    it.reason = _("Line %(line)s of this file also updates this record.") % {"line": claimed[hits[0]]}
                else:
                    it.action, it.target_id = "update", hits[0]
                    claimed[hits[0]] = it.line
    accounts = _resolve_accounts(ctx, valid) if ctx.target == "contact" else {}
    _flag_duplicates(ctx, valid, accounts)
    return items, accounts


# ------------------------------------------------------------------ writing a chunk

def _allocate_ids(model: type, count: int) -> list[int]:
    """Ids for rows inserted in bulk, so children can point at them without reading them back. SQLite: the
    chunk's transaction already holds the write lock (the ImportBatch row), so max+1… is ours."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, count])
            return [r[0] for r in cursor.fetchall()]
        cursor.execute(f'SELECT MAX(id) FROM "{table}"')
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        return list(range(start, start + count))


def _insert(model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), _BATCH_ROWS):
            part = rows[start:start + _BATCH_ROWS]
            cursor.execute(f'INSERT INTO "{table}" ({cols}) VALUES {", ".join([one] * len(part))}',
                           [v for row in part for v in row])


def _ranges(ids: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and out[-1][1] + 1 == i:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _ids(ranges: list[list[int]]) -> list[int]:
    return [i for first, last in ranges for i in range(first, last + 1)]


def _fast_phone_keys(e164: str) -> list[str]:
    for code in ("+86", "+1", "+44"):  # the national number after these codes is the rest of the string
        if e164.startswith(code):
            return [e164[1:], e164[len(code):]]
    return phone_search_keys(e164)


@lru_cache(maxsize=300_000)
def _name_text(name: str) -> str:
    return search_text(names=[name])


def _contact_text(name: str, methods: list[tuple]) -> str:
    """search_text(names=[name], phones=…, emails=…) without parsing common phone numbers again; the
    name's part is cached (names repeat)."""
    rest = dict.fromkeys([key for m in methods if m[0] == "phone" for key in _fast_phone_keys(m[2])]
                         + [m[2].lower() for m in methods if m[0] == "email"])
    base = _name_text(name)
    if not rest:
        return base
    return f"{base} {' '.join(rest)}" if base else " ".join(rest)


class _Writer:
    """Writes one planned chunk inside its transaction and returns what the undo log keeps."""

    def __init__(self, ctx: Context, imp: Import) -> None:
        self.ctx, self.imp = ctx, imp
        self.now = timezone.now()
        self.stamp = connection.ops.adapt_datetimefield_value(self.now)
        self.sqlite = connection.vendor == "sqlite"
        self.ct = ContentType.objects.get_for_model(Contact if ctx.target == "contact" else Account).pk
        self.audits: list[tuple] = []

    def _date(self, value: dt.date | None) -> Any:
        return None if value is None else (value.isoformat() if self.sqlite else value)

    def _owner(self, item: Item) -> tuple[int | None, int | None]:
        return item.owner or (self.ctx.actor.pk, self.ctx.actor.team_id)

    def _audit(self, pk: int, repr_: str, action: str, changes: dict, version: int = 1) -> None:
        self.audits.append((self.ct, pk, repr_[:200], self.ctx.actor.pk, self.stamp, action,
                            json.dumps(changes, ensure_ascii=False, default=str), version))

    def flush_audits(self) -> None:
        _insert(AuditEntry, ("content_type_id", "object_id", "object_repr", "actor_id", "at", "action", "changes",
                             "version"), self.audits)
        self.audits = []

    def tags(self, items: list[Item]) -> dict[str, int]:
        names = {t for it in items for t in it.tags}
        if not names:
            return {}
        have = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        missing = [n for n in names if n not in have]
        if missing:
            Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
            have = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        return have

    def accounts(self, items: list[Item], existing: dict[str, int]) -> list[int]:
        """Companies named by contact rows that the actor cannot see yet: created, owned by the actor."""
        names = list(dict.fromkeys(it.account_name for it in items if it.account_name
                                   and it.account_name not in existing))
        ids = _allocate_ids(Account, len(names))
        owner, team = self.ctx.actor.pk, self.ctx.actor.team_id
        _insert(Account, ("id", "name", "industry", "size", "classification", "source", "lifecycle_stage",
                          "website", "phone", "email", "description", "search_text", "owner_id", "team_id",
                          "version", "custom", "created_at", "updated_at"),
                [(pk, name, "", "", "", "", "awareness", "", "", "", "", search_text(names=[name]), owner, team, 1,
                  "{}", self.stamp, self.stamp) for pk, name in zip(ids, names, strict=True)])
        ct = ContentType.objects.get_for_model(Account).pk
        self.audits_accounts = [(ct, pk, name[:200], owner, self.stamp, AuditAction.CREATE,
                                 json.dumps({"name": [None, name], "import": [None, self.imp.pk]},
                                            ensure_ascii=False), 1) for pk, name in zip(ids, names, strict=True)]
        existing.update(zip(names, ids, strict=True))
        return ids

    def create(self, items: list[Item], accounts: dict[str, int], tags: dict[str, int]) -> list[int]:
        ids = (_allocate_ids(Contact if self.ctx.target == "contact" else Account, len(items)))
        if self.ctx.target == "contact":
            self._create_contacts(items, ids, accounts, tags)
        else:
            self._create_accounts(items, ids, tags)
        keys = [(self.ctx.target, it.external_id, pk) for it, pk in zip(items, ids, strict=True) if it.external_id]
        _insert(ExternalKey, ("target", "key", "object_id"), keys)
        return ids

    def _create_contacts(self, items: list[Item], ids: list[int], accounts: dict[str, int],
                         tags: dict[str, int]) -> None:
        contacts, methods, addresses, links, tag_links = [], [], [], [], []
        for it, pk in zip(items, ids, strict=True):
            c = it.cleaned
            owner, team = self._owner(it)
            ms = c["methods"]
            phone = next((m[2] for m in ms if m[0] == "phone"), "")
            email = next((m[2] for m in ms if m[0] == "email"), "")
            account = accounts.get(it.account_name)
            consent = c["marketing_consent"]
            contacts.append((pk, c["name"], c["title"], c["department"], account, phone, email,
                             self._date(c["birthday"]), c["preferred_channel"], consent,
                             self.stamp if consent else None, c["description"],
                             it.search or _contact_text(c["name"], ms),
                             owner, team, 1, json.dumps(c["custom"], ensure_ascii=False), self.stamp, self.stamp))
            firsts: set[str] = set()
            for kind, value, normalized, label in ms:
                methods.append((pk, kind, value, normalized, label, kind not in firsts))
                firsts.add(kind)
            for a in c["addresses"]:
                addresses.append((pk, *(a[k] for k in services.ADDRESS_FIELDS)))
            if account:
                links.append((pk, account))
            tag_links.extend((pk, tags[t]) for t in dict.fromkeys(it.tags))
            self._audit(pk, c["name"], AuditAction.CREATE,
                        {k: [None, v] for k, v in (("name", c["name"]), ("phone", phone), ("email", email),
                                                   ("owner_id", owner), ("import", self.imp.pk)) if v})
        _insert(Contact, ("id", "name", "title", "department", "primary_account_id", "phone", "email", "birthday",
                          "preferred_channel", "marketing_consent", "consent_changed_at", "description",
                          "search_text", "owner_id", "team_id", "version", "custom", "created_at", "updated_at"),
                contacts)
        _insert(ContactMethod, ("contact_id", "kind", "value", "normalized", "label", "is_primary"), methods)
        _insert(Address, ("contact_id", *services.ADDRESS_FIELDS), addresses)
        _insert(Contact.accounts.through, ("contact_id", "account_id"), links)
        _insert(Contact.tags.through, ("contact_id", "tag_id"), tag_links)

    def _create_accounts(self, items: list[Item], ids: list[int], tags: dict[str, int]) -> None:
        rows, addresses, tag_links = [], [], []
        for it, pk in zip(items, ids, strict=True):
            c = it.cleaned
            owner, team = self._owner(it)
            rows.append((pk, c["name"], c["industry"], c["size"], c["classification"], c["source"],
                         c["lifecycle_stage"], c["website"], c["phone"], c["email"], c["description"],
                         search_text(names=[c["name"]], phones=[c["phone"]], emails=[c["email"]]), owner, team, 1,
                         json.dumps(c["custom"], ensure_ascii=False), self.stamp, self.stamp))
            for a in c["addresses"]:
                addresses.append((pk, *(a[k] for k in services.ADDRESS_FIELDS)))
            tag_links.extend((pk, tags[t]) for t in dict.fromkeys(it.tags))
            self._audit(pk, c["name"], AuditAction.CREATE,
                        {k: [None, v] for k, v in (("name", c["name"]), ("owner_id", owner),
                                                   ("import", self.imp.pk)) if v})
        _insert(Account, ("id", "name", "industry", "size", "classification", "source", "lifecycle_stage",
                          "website", "phone", "email", "description", "search_text", "owner_id", "team_id",
                          "version", "custom", "created_at", "updated_at"), rows)
        _insert(Address, ("account_id", *services.ADDRESS_FIELDS), addresses)
        _insert(Account.tags.through, ("account_id", "tag_id"), tag_links)

    def update(self, items: list[Item], accounts: dict[str, int], tags: dict[str, int]) -> list[list]:
        """Fill in what the row gives; phones, emails, addresses, companies and tags are added, never
        removed. Returns the undo log: [id, {column: before}, {"methods"|"addresses"|…: [added]}]."""
        contact = self.ctx.target == "contact"
        model = Contact if contact else Account
        plain = services.CONTACT_FIELDS if contact else services.ACCOUNT_FIELDS
        ids = [it.target_id for it in items]
        current = {r["id"]: r for r in model.objects.filter(pk__in=ids).values(
            "id", "version", "search_text", "custom", "owner_id", "team_id", "phone", "email", *plain,
            *(("primary_account_id",) if contact else ()))}
        methods: dict[int, list[tuple]] = {}
        if contact:
            for row in ContactMethod.objects.filter(contact_id__in=ids).order_by("contact_id", "-is_primary", "id") \
                    .values_list("contact_id", "kind", "value", "normalized", "label"):
                methods.setdefault(row[0], []).append(row[1:])
        link = "contact_id" if contact else "account_id"
        have_addr = {(r[0], *r[1:]) for r in Address.objects.filter(**{f"{link}__in": ids}).values_list(
            link, *services.ADDRESS_FIELDS)}
        have_tags = set(model.tags.through.objects.filter(**{f"{link}__in": ids}).values_list(link, "tag_id"))
        have_links = set(Contact.accounts.through.objects.filter(contact_id__in=ids).values_list(
            "contact_id", "account_id")) if contact else set()
        log_rows: list[list] = []
        updates: list[tuple] = []
        new_methods, new_addresses, new_tags, new_links = [], [], [], []
        columns = [*plain, "phone", "email", "custom", "owner_id", "team_id", "search_text",
                   *(("primary_account_id", "consent_changed_at") if contact else ())]
        for it in items:
            before = current[it.target_id]
            after = dict(before)
            c = it.cleaned
            for name in plain:
                key = "notes" if name == "description" else name
                if key in it.provided and c.get(name) != before[name]:
                    after[name] = c[name]
            if c["custom"]:
                after["custom"] = {**(before["custom"] or {}), **c["custom"]}
            if it.owner:
                after["owner_id"], after["team_id"] = it.owner
            added: dict[str, list] = {}
            pk = it.target_id
            if contact:
                have = methods.get(pk, [])
                seen = {(m[0], m[2]) for m in have}
                fresh = [m for m in c["methods"] if (m[0], m[2]) not in seen]
                firsts = {m[0] for m in have}
                for kind, value, normalized, label in fresh:
                    new_methods.append((pk, kind, value, normalized, label, kind not in firsts))
                    firsts.add(kind)
                all_methods = [(m[0], m[1], m[2], m[3]) for m in have] + list(fresh)
                after["phone"] = before["phone"] or next((m[2] for m in all_methods if m[0] == "phone"), "")
                after["email"] = before["email"] or next((m[2] for m in all_methods if m[0] == "email"), "")
                added["methods"] = [[m[0], m[2]] for m in fresh]
                account = accounts.get(it.account_name)
                if account and (pk, account) not in have_links:
                    new_links.append((pk, account))
                    added["accounts"] = [account]
                    if not before["primary_account_id"]:
                        after["primary_account_id"] = account
                if "marketing_consent" in it.provided and after["marketing_consent"] != before["marketing_consent"]:
                    after["consent_changed_at"] = self.now
                else:
                    after["consent_changed_at"] = None
                after["search_text"] = _contact_text(after["name"], all_methods)
            else:
                for key in ("phone", "email"):
                    if key in it.provided and c[key]:
                        after[key] = c[key]
                after["search_text"] = search_text(names=[after["name"]], phones=[after["phone"]],
                                                   emails=[after["email"]])
            fresh_addr = [a for a in c["addresses"]
                          if (pk, *(a[k] for k in services.ADDRESS_FIELDS)) not in have_addr]
            for a in fresh_addr:
                new_addresses.append((pk, *(a[k] for k in services.ADDRESS_FIELDS)))
            if fresh_addr:
                added["addresses"] = len(fresh_addr)
            fresh_tags = [tags[t] for t in dict.fromkeys(it.tags) if (pk, tags[t]) not in have_tags]
            new_tags.extend((pk, t) for t in fresh_tags)
            if fresh_tags:
                added["tags"] = fresh_tags
            changed = {k: [before[k], after[k]] for k in columns if k in before and after[k] != before[k]}
            if not changed and not any(added.values()):
                continue
            if contact and "consent_changed_at" not in changed:
                after["consent_changed_at"] = None
            log_rows.append([pk, {k: _jsonable(before[k]) for k in changed}, {k: v for k, v in added.items() if v}])
            updates.append((pk, after))
            audit = {k: v for k, v in changed.items() if k not in ("search_text", "team_id", "consent_changed_at")}
            for key, value in added.items():
                if value and key != "accounts":
                    audit[f"added {key}"] = [None, value]
            audit["import"] = [None, self.imp.pk]
            self._audit(pk, after["name"], AuditAction.UPDATE, _jsonable(audit), before["version"] + 1)
        if updates:
            self._write_updates(model, updates, columns, contact)
        if new_methods:
            _insert(ContactMethod, ("contact_id", "kind", "value", "normalized", "label", "is_primary"), new_methods)
        _insert(Address, (link, *services.ADDRESS_FIELDS), new_addresses)
        _insert(model.tags.through, (link, "tag_id"), new_tags)
        if new_links:
            _insert(Contact.accounts.through, ("contact_id", "account_id"), new_links)
        return log_rows

    def _write_updates(self, model: type, updates: list[tuple], columns: list[str], contact: bool) -> None:
        cols = [c for c in columns if c != "consent_changed_at"]
        sets = ", ".join(f'"{c}" = %s' for c in cols)
        consent = ', "consent_changed_at" = COALESCE(%s, "consent_changed_at")' if contact else ""
        sql = f'UPDATE "{model._meta.db_table}" SET {sets}{consent}, "version" = "version" + 1, ' \
              f'"updated_at" = %s WHERE "id" = %s'
        params = []
        for pk, after in updates:
            values = [json.dumps(after[c], ensure_ascii=False) if c == "custom" else
                      self._date(after[c]) if c == "birthday" else after[c] for c in cols]
            if contact:
                values.append(connection.ops.adapt_datetimefield_value(after["consent_changed_at"]))
            params.append((*values, self.stamp, pk))
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _cells(ctx: Context, item: Item) -> list[str]:
    return [item.cells.get(h, "") for h in ctx.headers]


def write_chunk(ctx: Context, imp: Import, number: int, items: list[Item], accounts: dict[str, int]) -> dict:
    """One transaction: the chunk's records, its ImportBatch and the import's checkpoint and counters."""
    with transaction.atomic():
        batch = ImportBatch.objects.create(run=imp, number=number)  # a second run of this chunk fails here
        writer = _Writer(ctx, imp)
        fresh = [it for it in items if it.action == "new"]
        changes = [it for it in items if it.action == "update"]
        created_accounts = writer.accounts(fresh + changes, accounts) if ctx.target == "contact" else []
        tags = writer.tags(fresh + changes)
        created = writer.create(fresh, accounts, tags)
        updated = writer.update(changes, accounts, tags) if changes else []
        writer.audits.extend(getattr(writer, "audits_accounts", []))
        writer.flush_audits()
        batch.created_ids = _ranges(created)
        batch.created_accounts = _ranges(created_accounts)
        batch.updated = updated
        batch.rejected = [[it.line, _cells(ctx, it), it.errors] for it in items if it.action == "reject"]
        batch.flagged = [[it.line, _cells(ctx, it), it.target_id, it.reason] for it in items if it.action == "flag"]
        batch.save(update_fields=["created_ids", "created_accounts", "updated", "rejected", "flagged"])
        counts = {"rows": len(items), "created": len(created), "updated": len(updated),
                  "rejected": len(batch.rejected), "flagged": len(batch.flagged)}
        Import.objects.filter(pk=imp.pk).update(checkpoint=number + 1, **{k: F(k) + v for k, v in counts.items()})
    return counts


# ------------------------------------------------------------------ reading the file in chunks

def _chunks(imp: Import, skip: int = 0) -> Iterator[tuple[int, list[Row]]]:
    """(number, rows) from chunk `skip` on; earlier chunks are read past, not processed."""
    with open_rows(file_path(imp), imp.file_name, max_bytes=max_bytes()) as table:
        rows: list[Row] = []
        number = passed = 0
        for row in table:
            if number < skip:
                passed += 1
                if passed == CHUNK:
                    number, passed = number + 1, 0
                continue
            rows.append(row)
            if len(rows) == CHUNK:
                yield number, rows
                number, rows = number + 1, []
        if rows:
            yield number, rows


_WORKER_CTX: Context | None = None
PARALLEL_FROM = 3  # chunks: smaller files are cleaned in this process


def _prepare_in_worker(rows: list[Row]) -> list[Item]:
    assert _WORKER_CTX is not None
    return prepare(_WORKER_CTX, rows)


def _prepared(ctx: Context, imp: Import, skip: int, total: int) -> Iterator[tuple[int, list[Item]]]:
    """(number, cleaned items) in order. For a large file forked processes clean the next chunks while
    this one queries and writes; the workers never touch the database (only this process does)."""
    global _WORKER_CTX
    import multiprocessing
    import os
    from collections import deque

    workers = min(2, os.cpu_count() or 1)
    if total < PARALLEL_FROM * CHUNK or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for number, rows in _chunks(imp, skip):
            yield number, prepare(ctx, rows)
        return
    _WORKER_CTX = ctx
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending: deque = deque()
            for number, rows in _chunks(imp, skip):
                pending.append((number, pool.apply_async(_prepare_in_worker, (rows,))))
                if len(pending) > workers * 2:  # a few chunks ahead, no more: memory stays flat
                    n, result = pending.popleft()
                    yield n, result.get()
            while pending:
                n, result = pending.popleft()
                yield n, result.get()
    finally:
        _WORKER_CTX = None


def scan(imp: Import) -> int:
    """Read the whole file once before writing anything: a file that breaks halfway (bad bytes, a damaged
    workbook) is refused with nothing changed. Returns the number of rows."""
    count = 0
    with open_rows(file_path(imp), imp.file_name, max_bytes=max_bytes()) as table:
        for _row in table:
            count += 1
    return count


# ------------------------------------------------------------------ preview and dry run

@dataclass
class Preview:
    items: list[Item]
    page: int
    has_next: bool
    counts: dict[str, int]


def preview(actor: User, imp: Import, page: int = 0, per_page: int = PREVIEW_PAGE) -> Preview:
    """One page of rows with what would happen to each (nothing is written), and the counts of the page."""
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    ctx = Context.load(actor, imp)
    page = max(0, int(page))
    rows: list[Row] = []
    has_next = False
    try:
        with open_rows(file_path(imp), imp.file_name, max_bytes=max_bytes()) as table:
            for n, row in enumerate(table):
                if n < page * per_page:
                    continue
                if len(rows) == per_page:
                    has_next = True
                    break
                rows.append(row)
    except FileFormatError as exc:
        raise _file_error(exc)
    items, _accounts = plan_chunk(ctx, rows)
    counts = {k: sum(1 for it in items if it.action == k) for k in ("new", "update", "reject", "flag")}
    return Preview(items, page, has_next, counts)


def dry_run(actor: User, imp: Import) -> dict[str, int]:
    """Every row checked and decided as the import would, chunk by chunk, writing nothing."""
    ctx = Context.load(actor, imp)
    counts = dict.fromkeys(("rows", "new", "update", "reject", "flag"), 0)
    try:
        for _number, rows in _chunks(imp):
            items, _accounts = plan_chunk(ctx, rows)
            counts["rows"] += len(items)
            for it in items:
                counts[it.action] += 1
    except FileFormatError as exc:
        raise _file_error(exc)
    return counts


# ------------------------------------------------------------------ commit (a job)

def start_import(actor: User, imp: Import) -> JobProgress:
    """Start (or resume, after a stop) the import as a background job."""
    _require_editor(actor)
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status not in (ImportStatus.UPLOADED, ImportStatus.FAILED):
            if imp.job_id and imp.status == ImportStatus.RUNNING:
                return imp.job
            raise ValidationError({"__all__": [_("This import cannot be started again.")]})
        errors = mapping_errors(imp, imp.mapping, imp.match_key)
        if errors:
            raise ValidationError(errors)
        job = start_job(actor, JOB_IMPORT, _("Import %(file)s") % {"file": imp.file_name}, import_task,
                        import_id=imp.pk)
        imp.job, imp.status = job, ImportStatus.RUNNING
        imp.save(update_fields=["job", "status"])
    return job


def run_import(imp_id: int, job_id: str | None = None,
               on_chunk: Callable[[int, dict], None] | None = None) -> Import:
    """The import's work: check the whole file, then chunk after chunk from the checkpoint on.

    `on_chunk(number, counts)` runs after each committed chunk (progress; tests stop the run there)."""
    imp = Import.objects.select_related("user").get(pk=imp_id)
    actor = imp.user
    if actor is None or not actor.is_active or not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    if imp.status == ImportStatus.DONE:
        return imp
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.RUNNING)
    try:
        if job_id:
            progress(job_id, 0, None, _("Checking the file…"))
        total = scan(imp)
        Import.objects.filter(pk=imp.pk).update(estimated_rows=total)
        ctx = Context.load(actor, imp)
        first = imp.checkpoint
        if first == 0:
            write_audit(imp, actor, AuditAction.CREATE, {"file": [None, imp.file_name], "target": [None, imp.target]})
        done = min(total, first * CHUNK)
        if job_id:
            progress(job_id, done, total, _("Importing…"))
        for number, prepared in _prepared(ctx, imp, first, total):
            items, accounts = decide(ctx, prepared)
            counts = write_chunk(ctx, imp, number, items, accounts)
            done += counts["rows"]
            if job_id:
                progress(job_id, done, max(total, done))
            if on_chunk:
                on_chunk(number, counts)
    except FileFormatError as exc:
        Import.objects.filter(pk=imp.pk).update(status=ImportStatus.FAILED)
        raise _file_error(exc)
    except BaseException:
        Import.objects.filter(pk=imp.pk).update(status=ImportStatus.FAILED)
        raise
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())
    imp.refresh_from_db()
    write_audit(imp, actor, AuditAction.UPDATE, {"status": [None, "done"], "created": [None, imp.created],
                                                 "updated": [None, imp.updated], "rejected": [None, imp.rejected],
                                                 "flagged": [None, imp.flagged]})
    return imp


def summary(imp: Import) -> str:
    return _("%(created)d created, %(updated)d updated, %(rejected)d rejected, %(flagged)d flagged as possible "
             "duplicates.") % {"created": imp.created, "updated": imp.updated, "rejected": imp.rejected,
                               "flagged": imp.flagged}


@task()
@tracked
def import_task(job_id: str, import_id: int) -> str:
    try:
        imp = run_import(import_id, job_id)
    except ValidationError as exc:
        raise RuntimeError("; ".join(exc.messages)) from None
    return summary(imp)


# ------------------------------------------------------------------ undo (a job)

def start_undo(actor: User, imp: Import) -> JobProgress:
    _require_editor(actor)
    if imp.user_id != actor.pk and not actor.is_administrator:
        raise PermissionDenied(_("This is another user's import."))
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status == ImportStatus.UNDOING and imp.undo_job_id:
            return imp.undo_job
        if imp.status not in (ImportStatus.DONE, ImportStatus.FAILED) or not imp.batches.exists():
            raise ValidationError({"__all__": [_("Only a finished or stopped import can be undone.")]})
        job = start_job(actor, JOB_UNDO, _("Undo import %(file)s") % {"file": imp.file_name}, undo_task,
                        import_id=imp.pk)
        imp.undo_job, imp.status = job, ImportStatus.UNDOING
        imp.save(update_fields=["undo_job", "status"])
    return job


def _undo_batch(imp: Import, batch: ImportBatch, actor: User) -> None:
    contact = imp.target == "contact"
    model = Contact if contact else Account
    link = "contact_id" if contact else "account_id"
    ct = ContentType.objects.get_for_model(model)
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    audits = []
    with transaction.atomic():
        if not ImportBatch.objects.filter(pk=batch.pk, undone=False).update(undone=True):
            return  # undone by an earlier run of this job
        for pk, _before, added in reversed(batch.updated):
            if added.get("methods"):
                for kind, normalized in added["methods"]:
                    ContactMethod.objects.filter(contact_id=pk, kind=kind, normalized=normalized).delete()
            if added.get("addresses"):
                newest = Address.objects.filter(**{link: pk}).order_by("-id").values_list("pk", flat=True)
                Address.objects.filter(pk__in=list(newest[:added["addresses"]])).delete()
            if added.get("tags"):
                model.tags.through.objects.filter(**{link: pk, "tag_id__in": added["tags"]}).delete()
            if added.get("accounts"):
                Contact.accounts.through.objects.filter(contact_id=pk, account_id__in=added["accounts"]).delete()
        _restore(model, batch.updated)
        for pk, before, _added in batch.updated:
            audits.append((ct.pk, pk, "", actor.pk, stamp, AuditAction.UPDATE,
                           json.dumps({k: ["", v] for k, v in before.items() if k != "search_text"} |
                                      {"undo import": [imp.pk, None]}, ensure_ascii=False, default=str), 0))
        created = _ids(batch.created_ids)
        if created:
            names = dict(model.objects.filter(pk__in=created).values_list("pk", "name"))
            audits.extend((ct.pk, pk, names.get(pk, "")[:200], actor.pk, stamp, AuditAction.DELETE,
                           json.dumps({"undo import": [imp.pk, None]}), 0) for pk in created if pk in names)
            ExternalKey.objects.filter(target=imp.target, object_id__in=created).delete()
            model.objects.filter(pk__in=created).delete()
        accounts = _ids(batch.created_accounts)
        if accounts:
            act = ContentType.objects.get_for_model(Account).pk
            audits.extend((act, pk, "", actor.pk, stamp, AuditAction.DELETE,
                           json.dumps({"undo import": [imp.pk, None]}), 0) for pk in accounts)
            Account.objects.filter(pk__in=accounts).delete()
        _insert(AuditEntry, ("content_type_id", "object_id", "object_repr", "actor_id", "at", "action", "changes",
                             "version"), audits)


def _restore(model: type, updated: list[list]) -> None:
    """Put back the columns an import changed, one statement per set of columns (not one per record)."""
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for pk, before, _added in updated:
        cols = tuple(sorted(before))
        if not cols:
            continue
        values = []
        for col in cols:
            value = before[col]
            if col == "custom":
                value = json.dumps(value or {}, ensure_ascii=False)
            elif col == "birthday" and value and connection.vendor == "postgresql":
                value = dt.date.fromisoformat(value)
            values.append(value)
        groups.setdefault(cols, []).append((*values, pk))
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for cols, params in groups.items():
            sets = ", ".join(f'"{c}" = %s' for c in cols)
            cursor.executemany(f'UPDATE "{table}" SET {sets}, "version" = "version" + 1 WHERE "id" = %s', params)


def run_undo(imp_id: int, job_id: str | None = None) -> Import:
    imp = Import.objects.select_related("user").get(pk=imp_id)
    actor = imp.user
    batches = list(imp.batches.filter(undone=False).order_by("-number").only("pk"))
    total = len(batches)
    for n, stub in enumerate(batches, 1):
        batch = ImportBatch.objects.get(pk=stub.pk)  # one batch's log in memory at a time
        _undo_batch(imp, batch, actor)
        if job_id:
            progress(job_id, n, total)
    Import.objects.filter(pk=imp.pk).update(status=ImportStatus.UNDONE, finished_at=timezone.now())
    write_audit(imp, actor, AuditAction.DELETE, {"undo": [None, imp.file_name], "created": [imp.created, 0],
                                                 "updated": [imp.updated, 0]})
    imp.refresh_from_db()
    return imp


@task()
@tracked
def undo_task(job_id: str, import_id: int) -> str:
    imp = run_undo(import_id, job_id)
    return _("Import undone: %(created)d records deleted, %(updated)d restored.") % {
        "created": imp.created, "updated": imp.updated}


# ------------------------------------------------------------------ downloads

def rejected_csv(imp: Import) -> Iterator[bytes]:
    """The rejected rows with the reason per cell, then the flagged ones, as CSV to fix and upload again."""
    def rows() -> Iterator[tuple[list[str], dict]]:
        for batch in imp.batches.order_by("number").values_list("rejected", "flagged").iterator(chunk_size=20):
            for _line, cells, errors in batch[0]:
                yield cells, {col or None: msgs for col, msgs in errors.items()}
            for _line, cells, _pk, reason in batch[1]:
                yield cells, [reason]
    return _rejected_csv_chunks(imp.headers, rows(), errors_header=_("errors"))


def save_rejected(imp: Import, path: Path) -> Path:
    with open(path, "wb") as out:
        for chunk in rejected_csv(imp):
            out.write(chunk)
    return path


def remove_file(imp: Import) -> None:
    file_path(imp).unlink(missing_ok=True)


__all__ = ["CHUNK", "Context", "apply_template", "dry_run", "mapping_errors", "plan_chunk", "preview",
           "rejected_csv", "run_import", "run_undo", "set_mapping", "start_import", "start_undo", "summary",
           "templates_for", "upload", "visible_imports", "write_chunk"]
