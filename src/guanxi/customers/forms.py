"""Forms of the customer pages. They only collect what the user typed and turn it into the plain dict
the services take; the services validate. Their errors (keys like "phones.0", "custom.spend",
"addresses.0.postcode") are put back on the matching inputs, and the typed values stay in the form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from guanxi.core.models import CustomField, FieldType, User
from guanxi.core.records import int_or_none
from guanxi.core.services import assignable_users
from guanxi.core.templatetags.guanxi import display_custom

from .models import Account, Address, AddressKind, Contact

ADDRESS_PARTS = ["line", "kind", "province", "city", "district", "street", "postcode", "country"]
_ADDRESS_KEY = re.compile(r"^addresses\.(\d+)\.")
_YES_NO = [("", "—"), ("yes", _lazy("Yes")), ("no", _lazy("No"))]


class ListField(forms.Field):
    """Several values from repeated inputs of one name (checkboxes); validated by the service."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v).strip() for v in values if str(v).strip()]


class IdListField(ListField):
    """Record ids from repeated inputs; only their shape is checked here (whether the user may link them is
    the service's business)."""

    widget = forms.MultipleHiddenInput

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        bad = [v for v in value if not v.isdecimal() or not 0 < int(v) < 2**63]
        if bad:
            raise forms.ValidationError(_("No such account: %(ids)s.") % {"ids": ", ".join(bad)})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def _custom_initial(defn: CustomField, value: Any) -> Any:
    if value is None:
        return [] if defn.field_type == FieldType.MULTI_CHOICE else ""
    if defn.field_type == FieldType.BOOLEAN:
        return "yes" if value else "no"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


class RecordForm(forms.Form):
    """Base of the account and contact forms: plain model fields, owner, tags, addresses, custom fields."""

    model: type[models.Model]
    model_key: str
    plain_fields: list[str]
    required_fields = ("name",)

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tags = forms.CharField(label=_lazy("Tags"), required=False,
                           help_text=_lazy("Separate tags with commas."))
    owner_id = forms.CharField(label=_lazy("Owner"), required=False, widget=forms.Select)

    def __init__(self, data: Any = None, *, actor: User, instance: models.Model | None = None,
                 initial: dict[str, Any] | None = None) -> None:
        self.actor = actor
        self.instance = instance
        self.custom_defs = list(CustomField.objects.filter(model=self.model_key, active=True))
        base = self.initial_from(instance) if instance is not None else self.default_initial()
        super().__init__(data, initial={**base, **(initial or {})})
        self._add_plain_fields()
        self._add_owner_choices()
        self._add_custom_fields()
        self._add_address_rows(data)
        self.order_fields(self.field_order_names())

    # ------------------------------------------------------------ building

    def field_order_names(self) -> list[str]:
        return [*self.plain_fields, "owner_id", "tags"]

    def _add_plain_fields(self) -> None:
        for name in self.plain_fields:
            mf = self.model._meta.get_field(name)
            label = capfirst(mf.verbose_name)
            if isinstance(mf, models.BooleanField):
                field = forms.BooleanField(label=label, required=False)
            elif mf.choices:
                blank = [("", "—")] if mf.blank else []
                field = forms.CharField(label=label, required=False, widget=forms.Select(choices=blank + list(
                    mf.choices)))
            elif isinstance(mf, models.DateField):
                field = forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
            elif isinstance(mf, models.TextField):
                field = forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))
            else:
                attrs = {"maxlength": mf.max_length} if mf.max_length else {}
                if name in self.required_fields:
                    attrs["required"] = True
                if name == "email":
                    attrs["inputmode"] = "email"
                if name == "phone":
                    attrs["inputmode"] = "tel"
                field = forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))
            self.fields[name] = field

    def _add_owner_choices(self) -> None:
        users = list(assignable_users(self.actor).order_by("username"))
        current = getattr(self.instance, "owner", None)
        if current is not None and current not in users:
            users.insert(0, current)
        choices = [(str(u.pk), str(u)) for u in users]
        if self.actor.is_administrator:
            choices.insert(0, ("", _("— nobody —")))
        self.fields["owner_id"].widget.choices = choices

    def _add_custom_fields(self) -> None:
        for defn in self.custom_defs:
            name = f"custom.{defn.key}"
            kind = defn.field_type
            if kind == FieldType.CHOICE:
                field = forms.CharField(widget=forms.Select(choices=[("", "—")] + [(c, c) for c in defn.choices]))
            elif kind == FieldType.MULTI_CHOICE:
                field = ListField(widget=forms.CheckboxSelectMultiple(choices=[(c, c) for c in defn.choices]))
            elif kind == FieldType.BOOLEAN:
                field = forms.CharField(widget=forms.Select(choices=_YES_NO))
            elif kind == FieldType.DATE:
                field = forms.CharField(widget=forms.DateInput(attrs={"type": "date"}))
            elif kind in (FieldType.NUMBER, FieldType.MONEY):
                field = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}))
                if kind == FieldType.MONEY:
                    field.help_text = defn.currency
            else:
                field = forms.CharField(widget=forms.TextInput(attrs={"maxlength": 1000}))
            field.required = False
            field.label = defn.label
            field.is_required_custom = defn.required
            self.fields[name] = field

    def _address_count(self, data: Any) -> int:
        if data is not None:
            indexes = [int(m.group(1)) for key in data.keys() if (m := _ADDRESS_KEY.match(key))]
            return max(indexes, default=-1) + 1 or 1
        return len(self.initial.get("_addresses", [])) + 1

    def _add_address_rows(self, data: Any) -> None:
        self.address_count = self._address_count(data)
        labels = {"line": _("Address in one line"), "kind": capfirst(Address._meta.get_field("kind").verbose_name)}
        for i in range(self.address_count):
            for part in ADDRESS_PARTS:
                name = f"addresses.{i}.{part}"
                if part == "kind":
                    field = forms.CharField(widget=forms.Select(choices=AddressKind.choices))
                else:
                    label = labels.get(part) or capfirst(Address._meta.get_field(part).verbose_name)
                    attrs = {"placeholder": _("e.g. 北京市朝阳区建国路88号")} if part == "line" else {}
                    field = forms.CharField(label=label, widget=forms.TextInput(attrs=attrs))
                field.label = field.label or labels.get(part)
                field.required = False
                if part == "country":
                    field.initial = "CN"
                    field.widget.attrs.update({"maxlength": 2, "placeholder": "CN"})
                self.fields[name] = field

    @property
    def address_rows(self) -> list[dict[str, forms.BoundField]]:
        return [{part: self[f"addresses.{i}.{part}"] for part in ADDRESS_PARTS} for i in range(self.address_count)]

    @property
    def plain_bound(self) -> list[forms.BoundField]:
        return [self[name] for name in self.plain_fields]

    @property
    def custom_bound(self) -> list[forms.BoundField]:
        return [self[f"custom.{d.key}"] for d in self.custom_defs]

    # ------------------------------------------------------------ initial values

    def default_initial(self) -> dict[str, Any]:
        return {"owner_id": str(self.actor.pk), "_addresses": []}

    def initial_from(self, obj: models.Model) -> dict[str, Any]:
        initial: dict[str, Any] = {"version": obj.version, "owner_id": str(obj.owner_id or "")}
        for name in self.plain_fields:
            value = getattr(obj, name)
            initial[name] = value.isoformat() if hasattr(value, "isoformat") else value
        initial["tags"] = ", ".join(t.name for t in obj.tags.all())
        for defn in self.custom_defs:
            initial[f"custom.{defn.key}"] = _custom_initial(defn, (obj.custom or {}).get(defn.key))
        addresses = list(obj.addresses.order_by("id"))
        initial["_addresses"] = addresses
        for i, address in enumerate(addresses):
            for part in ADDRESS_PARTS:
                initial[f"addresses.{i}.{part}"] = getattr(address, part, "")
        return initial

    # ------------------------------------------------------------ to the service

    def to_data(self) -> dict[str, Any]:
        """The plain dict the create/update services take."""
        cd = self.cleaned_data
        data: dict[str, Any] = {}
        for name in self.plain_fields:
            value = cd.get(name)
            if isinstance(self.fields[name].widget, forms.DateInput) and not value:
                value = None
            data[name] = value
        data["tags"] = cd.get("tags", "")
        data["custom"] = {d.key: self._custom_value(d) for d in self.custom_defs}
        data["addresses"] = self._addresses()
        owner = cd.get("owner_id") or ""
        if self.instance is None or owner != str(self.instance.owner_id or ""):
            data["owner_id"] = owner or None
        return data

    def _custom_value(self, defn: CustomField) -> Any:
        value = self.cleaned_data.get(f"custom.{defn.key}")
        if defn.field_type == FieldType.MULTI_CHOICE:
            return value or []
        return value if value is not None else ""

    def _addresses(self) -> list[dict[str, str]]:
        rows = []
        for i in range(self.address_count):
            row = {part: (self.cleaned_data.get(f"addresses.{i}.{part}") or "").strip() for part in ADDRESS_PARTS}
            if not any(row[p] for p in ("line", "province", "city", "district", "street", "postcode")):
                continue
            row["country"] = row["country"] or "CN"
            row["kind"] = row["kind"] or AddressKind.OFFICE
            if not row["line"]:
                row.pop("line")
            rows.append(row)
        return rows

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a ValidationError's message_dict on the inputs the keys name."""
        for key, messages in errors.items():
            target = self._error_target(key)
            for message in messages:
                if target is None and key not in ("__all__", "version"):
                    message = f"{key}: {message}"
                self.add_error(target, message)

    def _error_target(self, key: str) -> str | None:
        if key in self.fields:
            return key
        head, _sep, rest = key.partition(".")
        if head in ("phones", "emails") and head in self.fields:
            return head
        if head == "addresses" and rest:
            index = rest.split(".")[0]
            line = f"addresses.{index}.line"
            return line if line in self.fields else None
        aliases = {"owner": "owner_id", "parent": "parent_id", "accounts": "account_ids"}
        if key in aliases and aliases[key] in self.fields:
            return aliases[key]
        return None

    # ------------------------------------------------------------ edit conflicts

    def display(self, name: str, value: Any) -> str:
        field = self.fields[name]
        if name.startswith("custom."):
            defn = next(d for d in self.custom_defs if f"custom.{d.key}" == name)
            if defn.field_type == FieldType.BOOLEAN:
                return {"yes": _("Yes"), "no": _("No")}.get(str(value), "")
            return display_custom(value, defn.field_type, defn.currency)
        if isinstance(field, forms.BooleanField):
            return _("Yes") if field.to_python(value) else _("No")
        choices = getattr(field.widget, "choices", None)
        if choices and not isinstance(value, list | tuple):
            return str(dict((str(k), v) for k, v in choices).get(str(value or ""), value or ""))
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        if isinstance(field.widget, forms.Textarea):
            return "\n".join(_lines(str(value or "")))
        return str(value if value is not None else "")

    def compare_fields(self) -> list[str]:
        return [*self.plain_fields, "owner_id", "tags", *[f"custom.{d.key}" for d in self.custom_defs]]

    def _address_summary(self, form: RecordForm) -> str:
        rows = []
        for row in form.address_rows:
            parts = [str(row[p].value() or "").strip() for p in ("line", "province", "city", "district", "street",
                                                                  "postcode")]
            if any(parts):
                rows.append(" ".join(p for p in parts if p))
        return "\n".join(rows)

    def compare_with(self, current: models.Model) -> list[dict[str, Any]]:
        """Side-by-side rows: the value saved now (`current`) and what this form holds."""
        saved = type(self)(actor=self.actor, instance=current)
        rows = []
        for name in self.compare_fields():
            theirs = saved.display(name, saved[name].value())
            yours = self.display(name, self[name].value())
            rows.append({"name": name, "label": self.fields[name].label, "saved": theirs, "yours": yours,
                         "differs": theirs.strip() != yours.strip()})
        theirs, yours = self._address_summary(saved), self._address_summary(self)
        rows.append({"name": "addresses", "label": _("Addresses"), "saved": theirs, "yours": yours,
                     "differs": theirs != yours})
        return rows


class AccountForm(RecordForm):
    model = Account
    model_key = "account"
    plain_fields = ["name", "classification", "lifecycle_stage", "industry", "size", "source", "website", "phone",
                    "email", "description"]

    parent_id = forms.CharField(label=_lazy("Parent account"), required=False, widget=forms.HiddenInput)

    def field_order_names(self) -> list[str]:
        return [*super().field_order_names(), "parent_id"]

    def initial_from(self, obj: models.Model) -> dict[str, Any]:
        initial = super().initial_from(obj)
        initial["parent_id"] = str(obj.parent_id or "")
        return initial

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        parent = self.cleaned_data.get("parent_id") or ""
        if self.instance is None or parent != str(self.instance.parent_id or ""):
            data["parent_id"] = parent or None
        return data

    def selected_parents(self) -> list[Account]:
        """The chosen parent (if the user may see it) as a list, for the picker."""
        pk = int_or_none(self["parent_id"].value())
        return list(Account.objects.visible_to(self.actor).filter(pk=pk)) if pk else []

    def display(self, name: str, value: Any) -> str:
        if name == "parent_id":
            parent = Account.objects.visible_to(self.actor).filter(pk=int_or_none(value)).first()
            return str(parent or "")
        return super().display(name, value)

    def compare_fields(self) -> list[str]:
        return [*super().compare_fields(), "parent_id"]


class ContactForm(RecordForm):
    model = Contact
    model_key = "contact"
    plain_fields = ["name", "title", "department", "birthday", "preferred_channel", "marketing_consent",
                    "description"]

    phones = forms.CharField(label=_lazy("Phones"), required=False, widget=forms.Textarea(
        attrs={"rows": 2, "inputmode": "tel"}), help_text=_lazy("One per line; the first is the main one."))
    emails = forms.CharField(label=_lazy("Emails"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_lazy("One per line; the first is the main one."))
    account_ids = IdListField(label=_lazy("Companies"), required=False)

    def field_order_names(self) -> list[str]:
        return ["name", "title", "department", "phones", "emails", "account_ids", *self.plain_fields[3:],
                "owner_id", "tags"]

    def initial_from(self, obj: models.Model) -> dict[str, Any]:
        initial = super().initial_from(obj)
        methods = list(obj.methods.all())
        initial["phones"] = "\n".join(m.value for m in methods if m.kind == "phone")
        initial["emails"] = "\n".join(m.value for m in methods if m.kind == "email")
        initial["account_ids"] = [str(pk) for pk in self._linked_ids(obj)]
        return initial

    def _linked_ids(self, obj: Contact) -> list[int]:
        ids = list(obj.accounts.order_by("pk").values_list("pk", flat=True))
        visible = set(Account.objects.visible_to(self.actor).filter(pk__in=ids).values_list("pk", flat=True))
        # The company shown on lists first, then the others.
        ordered = sorted((i for i in ids if i in visible), key=lambda i: (i != obj.primary_account_id, i))
        return ordered

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        data["phones"] = _lines(self.cleaned_data.get("phones", ""))
        data["emails"] = _lines(self.cleaned_data.get("emails", ""))
        ids = list(dict.fromkeys(self.cleaned_data.get("account_ids") or []))
        if self.instance is None or ids != [str(i) for i in self._linked_ids(self.instance)]:
            data["account_ids"] = ids
        return data

    def selected_accounts(self) -> list[Account]:
        values = self["account_ids"].value() or []
        ids = [i for i in (int_or_none(v) for v in (values if isinstance(values, list | tuple) else [values])) if i]
        found = {a.pk: a for a in Account.objects.visible_to(self.actor).filter(pk__in=ids)}
        return [found[i] for i in ids if i in found]

    def display(self, name: str, value: Any) -> str:
        if name == "account_ids":
            ids = [int_or_none(v) for v in (value or [])]
            found = {a.pk: a.name for a in Account.objects.visible_to(self.actor).filter(pk__in=[i for i in ids if i])}
            return ", ".join(found[i] for i in ids if i in found)
        return super().display(name, value)

    def compare_fields(self) -> list[str]:
        fields = super().compare_fields()
        return [*fields[:3], "phones", "emails", "account_ids", *fields[3:]]


