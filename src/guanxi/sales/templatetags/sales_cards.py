"""The sales cards on the account page that the customers app only includes: contracts and receivables."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ..contract_models import Contract
from ..receivable_queries import account_outstanding

register = template.Library()


@register.inclusion_tag("sales/_account_contracts.html", takes_context=True)
def account_contracts(context: template.Context, account: Any) -> dict[str, Any]:
    """The account's contracts the user may see (latest 10) and what it still owes: two queries."""
    user = context["user"]
    rows = list(Contract.objects.visible_to(user).filter(account=account).order_by("-end_date", "-pk")[:11])
    return {"user": user, "obj": account, "contracts": rows[:10], "more": len(rows) > 10,
            "owed": account_outstanding(user, account.pk, timezone.localdate())["rows"]}
