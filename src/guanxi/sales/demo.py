"""Demo opportunities: about one for every six demo accounts, owned by the account's owner, spread over
the default pipeline's stages, closing over the coming months; some already won, some lost with a reason.

Called by `guanxi.core.demo.load` inside its transaction, after the customers are in. Accounts are read in
keyset chunks and opportunities written with bulk_create, so a million-contact demo (200,000 accounts)
adds ~33,000 opportunities in seconds. Like the other bulk demo rows they get no audit entries.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Min

from guanxi.customers.models import Account, Contact

from .models import Opportunity, Stage, StageKind
from .services import default_pipeline

log = logging.getLogger(__name__)
RATE = 1 / 6  # opportunities per account
CHUNK = 5000  # accounts read at a time
BATCH = 1000  # opportunities per INSERT

# What is being sold: the demo is bilingual, so each account gets names in its own language.
DEALS_ZH = ("年度框架协议", "CRM 系统采购", "设备更新项目", "数据中心扩容", "办公用品集采", "培训服务",
            "物流外包合同", "安防系统升级", "续约及增购", "试点项目", "云服务订阅", "维保服务合同")
DEALS_EN = ("Annual framework agreement", "CRM system purchase", "Equipment renewal", "Data centre expansion",
            "Office supplies tender", "Training services", "Logistics outsourcing", "Security upgrade",
            "Renewal and upsell", "Pilot project", "Cloud subscription", "Maintenance contract")
LOST_ZH = ("价格高于竞争对手", "预算被取消", "选择了竞争对手", "项目延期至明年", "决策人更换")
LOST_EN = ("Price above the competition", "Budget cancelled", "Chose a competitor", "Project postponed to next year",
           "Decision maker changed")
COMPETITORS = ("", "", "", "Salesforce", "纷享销客", "销售易", "HubSpot", "用友")
# Amounts, CNY: most deals small, a few large.
AMOUNTS = (8_000, 15_000, 30_000, 50_000, 80_000, 120_000, 200_000, 350_000, 600_000, 1_200_000)
AMOUNT_WEIGHTS = (10, 14, 16, 15, 12, 10, 8, 7, 5, 3)


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _first_contacts(account_ids: list[int]) -> dict[int, int]:
    """One contact per account (its lowest id), in one query per chunk."""
    if not account_ids:
        return {}
    links = (Contact.accounts.through.objects.filter(account_id__in=account_ids)
             .values("account_id").annotate(contact=Min("contact_id")))
    return {row["account_id"]: row["contact"] for row in links}


def create_demo_opportunities(seed: int, first_account_id: int, today: dt.date, *, rate: float = RATE) -> int:
    """Opportunities for the accounts from `first_account_id` on (the ones the demo just made); the same seed
    gives the same opportunities. Returns how many were made."""
    started = time.monotonic()
    rng = random.Random(f"opportunities-{seed}")
    pipeline = default_pipeline()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next((s for s in stages if s.kind == StageKind.WON), None)
    lost = next((s for s in stages if s.kind == StageKind.LOST), None)
    # Fewer deals further down the funnel; ~15 % won and ~10 % lost where the pipeline has such stages.
    choices = open_stages + [s for s in (won, lost) if s is not None]
    weights = [max(1, 20 - 3 * i) for i in range(len(open_stages))]
    weights += [6 * sum(weights) // 25] * (won is not None) + [4 * sum(weights) // 25] * (lost is not None)
    closing = dt.datetime.combine(today, dt.time(10), tzinfo=dt.UTC)
    made = 0
    last = first_account_id - 1
    while True:
        accounts = list(Account.objects.filter(pk__gt=last).order_by("pk")
                        .values_list("pk", "name", "owner_id", "team_id")[:CHUNK])
        if not accounts:
            break
        last = accounts[-1][0]
        picked = [a for a in accounts if rng.random() < rate]
        contacts = _first_contacts([a[0] for a in picked])
        batch = []
        for pk, name, owner_id, team_id in picked:
            stage = rng.choices(choices, weights)[0]
            zh = _chinese(name)
            opp = Opportunity(
                name=rng.choice(DEALS_ZH if zh else DEALS_EN), account_id=pk, contact_id=contacts.get(pk),
                pipeline=pipeline, stage=stage, status=stage.kind, probability=stage.probability,
                amount=Decimal(rng.choices(AMOUNTS, AMOUNT_WEIGHTS)[0]), currency=pipeline.currency,
                owner_id=owner_id, team_id=team_id, competitors=rng.choice(COMPETITORS))
            if stage.kind == StageKind.OPEN:  # closing over the next six months
                opp.expected_close = today + dt.timedelta(days=rng.randint(7, 183))
            else:  # closed in the last three months
                opp.closed_at = closing - dt.timedelta(days=rng.randint(1, 90))
                opp.expected_close = opp.closed_at.date()
                if stage.kind == StageKind.LOST:
                    opp.lost_reason = rng.choice(LOST_ZH if zh else LOST_EN)
            batch.append(opp)
        Opportunity.objects.bulk_create(batch, batch_size=BATCH)
        made += len(batch)
    log.info("demo: %d opportunities in %.1f s", made, time.monotonic() - started)
    from .quote_demo import create_demo_quotes

    quotes = create_demo_quotes(seed, first_account_id, today)
    log.info("demo: catalogue and %d quotes after %.1f s", quotes, time.monotonic() - started)
    from .payment_demo import create_demo_collection
    from .quote_models import Order

    orders = list(Order.objects.filter(account_id__gte=first_account_id).select_related("quote").order_by("pk"))
    collected = create_demo_collection(seed, orders, today)
    log.info("demo: contracts, deliveries and payment plans for %d orders after %.1f s", collected,
             time.monotonic() - started)
    if made and connection.vendor == "postgresql":  # fresh statistics for the board and forecast plans
        transaction.on_commit(_analyze)
    return made


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{Opportunity._meta.db_table}"')
