"""Accounts and contacts as the API shows them, built from `values()` rows.

A page of 50 costs one query for the rows plus one per related list (tags, addresses, phones and
emails, linked accounts) — never one per row — and no model instances: on the list endpoint this
is most of the difference to a bare `values()` view (docs/benchmarks.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpResponse

from guanxi.core.api import utc
from guanxi.core.models import User

from .models import Account, Address, Contact, ContactMethod, ContactMethodKind

_COMMON = ["id", "version", "name", "phone", "email", "description", "custom", "created_at", "updated_at",
           "owner_id", "owner__username", "owner__first_name", "owner__last_name", "team_id", "team__name"]
ACCOUNT_COLUMNS = _COMMON + ["industry", "size", "classification", "source", "lifecycle_stage", "website",
                             "parent_id"]
CONTACT_COLUMNS = _COMMON + ["title", "department", "birthday", "preferred_channel", "marketing_consent",
                             "consent_changed_at", "primary_account_id"]
_ADDRESS = ["kind", "country", "province", "city", "district", "street", "postcode"]


def _tags(model: type, ids: list[int]) -> dict[int, list[str]]:
    through = model.tags.through
    fk = f"{model._meta.model_name}_id"
    out: dict[int, list[str]] = defaultdict(list)
    for pk, name in through.objects.filter(**{f"{fk}__in": ids}).values_list(fk, "tag__name"):
        out[pk].append(name)
    return out


def _addresses(link: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Address.objects.filter(**{f"{link}_id__in": ids}).order_by("id").values(f"{link}_id", *_ADDRESS):
        owner = row.pop(f"{link}_id")
        row["line"] = Address.line_of(row)
        out[owner].append(row)
    return out


def _common(row: dict[str, Any], tags: dict, addresses: dict) -> dict[str, Any]:
    owner = None
    if row["owner_id"] is not None:
        full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        owner = {"id": row["owner_id"], "name": full or row["owner__username"]}
    return {
        "id": row["id"], "version": row["version"], "name": row["name"], "phone": row["phone"],
        "email": row["email"], "description": row["description"], "owner": owner,
        "team": {"id": row["team_id"], "name": row["team__name"]} if row["team_id"] is not None else None,
        "tags": sorted(tags.get(row["id"], [])), "custom": row["custom"] or {},
        "addresses": addresses.get(row["id"], []),
        "created_at": utc(row["created_at"]), "updated_at": utc(row["updated_at"]),
    }


def _visible_names(user: User, ids: set[int]) -> dict[int, str]:
    """Names of the accounts among `ids` that the user may see (an invisible link shows nothing)."""
    if not ids:
        return {}
    return dict(Account.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "name"))


def account_dicts(rows: list[dict[str, Any]], user: User) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    if not ids:
        return []
    tags, addresses = _tags(Account, ids), _addresses("account", ids)
    parents = _visible_names(user, {r["parent_id"] for r in rows if r["parent_id"]})
    return [{**_common(r, tags, addresses), "industry": r["industry"], "size": r["size"],
             "classification": r["classification"], "source": r["source"],
             "lifecycle_stage": r["lifecycle_stage"], "website": r["website"],
             "parent": {"id": r["parent_id"], "name": parents[r["parent_id"]]} if r["parent_id"] in parents
             else None}
            for r in rows]


def contact_dicts(rows: list[dict[str, Any]], user: User) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    if not ids:
        return []
    tags, addresses = _tags(Contact, ids), _addresses("contact", ids)
    methods: dict[int, dict[str, list]] = defaultdict(lambda: {"phones": [], "emails": []})
    for cid, kind, value, normalized, label in ContactMethod.objects.filter(contact_id__in=ids).values_list(
            "contact_id", "kind", "value", "normalized", "label"):
        key = "phones" if kind == ContactMethodKind.PHONE else "emails"
        methods[cid][key].append({"value": value, "normalized": normalized, "label": label})
    links: dict[int, list[int]] = defaultdict(list)
    for cid, aid in Contact.accounts.through.objects.filter(contact_id__in=ids).order_by("account_id").values_list(
            "contact_id", "account_id"):
        links[cid].append(aid)
    names = _visible_names(user, {aid for aids in links.values() for aid in aids})
    out = []
    for r in rows:
        primary_id = r["primary_account_id"]
        account_ids = sorted((a for a in links.get(r["id"], []) if a in names), key=lambda a: (a != primary_id, a))
        out.append({
            **_common(r, tags, addresses), "title": r["title"], "department": r["department"],
            "birthday": r["birthday"], "preferred_channel": r["preferred_channel"],
            "marketing_consent": r["marketing_consent"], "consent_changed_at": utc(r["consent_changed_at"]),
            **(methods.get(r["id"]) or {"phones": [], "emails": []}),
            "account_ids": account_ids,
            "primary_account": {"id": primary_id, "name": names[primary_id]} if primary_id in names else None,
        })
    return out


def account_values(qs: QuerySet) -> QuerySet:
    return qs.values(*ACCOUNT_COLUMNS)


def contact_values(qs: QuerySet) -> QuerySet:
    return qs.values(*CONTACT_COLUMNS)


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """Already-shaped data straight to JSON (the schema is documented on the operation, and tested)."""
    return HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False), status=status,
                        content_type="application/json")
