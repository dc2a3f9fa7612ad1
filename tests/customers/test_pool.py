"""The public pool (公海): claiming within limits, releasing, cool-downs, follow-ups pushing the deadline,
the sweep's warnings and returns, and who sees what."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection
from django.utils import timezone

from guanxi.activities.services import add_note
from guanxi.core.models import Notification, Role
from guanxi.core.records import audit_trail
from guanxi.customers import pool_services as pool
from guanxi.customers import services
from guanxi.customers.models import Account, ClaimLimit, PoolRule

DAY = dt.timedelta(days=1)


@pytest.fixture
def rules(db):
    PoolRule.objects.create(classification="B", return_days=30, warn_days=5, cooldown_days=7)
    PoolRule.objects.create(classification="", return_days=10, warn_days=2, cooldown_days=0)
    ClaimLimit.objects.create(max_claimed=2)


def _pool_account(admin, name, classification="B"):
    return services.create_account(admin, {"name": name, "classification": classification, "owner_id": None})


def test_unowned_accounts_are_in_the_pool_and_visible_to_reps_but_others_owned_are_not(users, rules):
    admin, rep_a, rep_b = users["admin"], users["rep_a"], users["rep_b"]
    in_pool = _pool_account(admin, "公海客户")
    assert in_pool.pool_entered_at is not None and in_pool.pool_due_at is None
    theirs = services.create_account(rep_b, {"name": "华南客户"})
    visible = set(Account.objects.visible_to(rep_a).values_list("name", flat=True))
    assert "公海客户" in visible and "华南客户" not in visible
    # Seen, but not editable until claimed.
    assert not Account.objects.editable_by(rep_a).filter(pk=in_pool.pk).exists()
    assert Account.objects.editable_by(admin).filter(pk=in_pool.pk).exists()
    with pytest.raises(pool.ClaimTaken):
        pool.claim(rep_a, [theirs.pk])


def test_claim_starts_the_clock_and_is_audited(users, rules):
    now = timezone.now()
    account = _pool_account(users["admin"], "星辰医疗")
    result = pool.claim(users["rep_a"], [account.pk], now=now)
    account.refresh_from_db()
    assert [a.pk for a in result.claimed] == [account.pk]
    assert account.owner == users["rep_a"] and account.team == users["rep_a"].team
    assert account.claimed_at == now and account.last_follow_up_at == now
    assert account.pool_due_at == now + 30 * DAY and account.pool_entered_at is None
    assert audit_trail(account).first().changes == {"owner_id": [None, users["rep_a"].pk]}


def test_claim_limit_counts_accounts_held_from_the_pool(users, rules):
    rep = users["rep_a"]
    services.create_account(rep, {"name": "自建客户"})  # own accounts do not count
    a, b, c = (_pool_account(users["admin"], f"公海{i}") for i in range(3))
    assert pool.remaining_claims(rep) == 2
    with pytest.raises(ValidationError) as err:
        pool.claim(rep, [a.pk, b.pk, c.pk])
    assert "limit" in err.value.message_dict
    assert Account.objects.filter(owner=rep).count() == 1  # all or nothing
    pool.claim(rep, [a.pk, b.pk])
    assert pool.remaining_claims(rep) == 0
    with pytest.raises(ValidationError) as err:
        pool.claim(rep, [c.pk])
    assert "limit" in err.value.message_dict
    # A per-role override, then a per-user one, take precedence over the default.
    ClaimLimit.objects.create(role=Role.SALES_REP, max_claimed=3)
    assert pool.claim_limit(rep) == 3
    ClaimLimit.objects.create(user=rep, max_claimed=5)
    assert pool.claim_limit(rep) == 5 and pool.claim_limit(users["rep_b"]) == 3
    pool.claim(rep, [c.pk])


def test_release_needs_a_reason_and_the_releaser_waits_out_the_cool_down(users, rules):
    now = timezone.now()
    rep, other = users["rep_a"], users["rep_a2"]
    account = _pool_account(users["admin"], "冷却客户")
    pool.claim(rep, [account.pk], now=now)
    with pytest.raises(ValidationError) as err:
        pool.release(rep, account, "  ")
    assert "reason" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        pool.release(other, account, "不是我的")
    pool.release(rep, account, "客户暂无需求", now=now)
    account.refresh_from_db()
    assert account.owner_id is None and account.released_by == rep and account.release_reason == "客户暂无需求"
    assert pool.remaining_claims(rep) == 2  # the place is free again
    with pytest.raises(ValidationError) as err:
        pool.claim(rep, [account.pk], now=now + 6 * DAY)
    assert "cooldown" in err.value.message_dict
    pool.claim(rep, [account.pk], now=now + 7 * DAY + dt.timedelta(minutes=1))
    # A manager of the team may release it too; an unrelated rep may not claim what is owned.
    pool.release(users["manager_a"], account, "调整")
    pool.claim(other, [account.pk])


def test_manager_assigns_from_the_pool_without_using_the_reps_claims(users, rules):
    account = _pool_account(users["admin"], "分配客户")
    with pytest.raises(PermissionDenied):
        pool.assign_from_pool(users["rep_a"], [account.pk], users["rep_a"].pk)
    with pytest.raises(ValidationError) as err:
        pool.assign_from_pool(users["manager_a"], [account.pk], users["rep_b"].pk)  # not in their teams
    assert "owner_id" in err.value.message_dict
    pool.assign_from_pool(users["manager_a"], [account.pk], users["rep_a2"].pk)
    account.refresh_from_db()
    assert account.owner == users["rep_a2"] and account.claimed_at is None and account.pool_due_at is not None
    assert pool.remaining_claims(users["rep_a2"]) == 2


def test_warning_first_then_return_after_n_days_each_once(users, rules):
    rep = users["rep_a"]
    start = timezone.now()
    account = _pool_account(users["admin"], "久未跟进")
    pool.claim(rep, [account.pk], now=start)
    assert pool.warn_upcoming(start + 24 * DAY) == 0  # more than 5 days to go
    assert pool.warn_upcoming(start + 26 * DAY) == 1
    assert pool.warn_upcoming(start + 26 * DAY) == 0  # twice → once
    warning = Notification.objects.get(user=rep)
    assert "久未跟进" in warning.text and warning.link == f"/accounts/{account.pk}/"
    assert pool.return_overdue(start + 29 * DAY) == 0
    assert pool.return_overdue(start + 30 * DAY) == 1
    assert pool.return_overdue(start + 30 * DAY) == 0
    account.refresh_from_db()
    assert account.owner_id is None and account.released_by == rep and account.pool_entered_at == start + 30 * DAY
    assert Notification.objects.filter(user=rep).count() == 2
    entry = audit_trail(account).first()
    assert entry.actor is None and entry.changes["owner_id"] == [rep.pk, None]
    # The former owner is in the cool-down like anyone who released it.
    with pytest.raises(ValidationError):
        pool.claim(rep, [account.pk], now=start + 31 * DAY)


def test_a_follow_up_pushes_the_deadline_and_rearms_the_warning(users, rules):
    rep = users["rep_a"]
    start = timezone.now() - 26 * DAY
    account = _pool_account(users["admin"], "跟进客户")
    pool.claim(rep, [account.pk], now=start)
    assert pool.warn_upcoming(start + 26 * DAY) == 1
    note = add_note(rep, account, "电话沟通，下月再联系")  # the hook activities call
    account.refresh_from_db()
    assert account.last_follow_up_at == note.created_at
    assert account.pool_due_at == note.created_at + 30 * DAY and account.pool_warned_at is None
    assert pool.return_overdue(start + 31 * DAY) == 0
    assert pool.record_follow_up([account.pk], start) == 0  # never moves back
    # A classification change takes the new rule's deadline from the same follow-up.
    services.update_account(rep, account, {"classification": "C"}, version=account.version)
    account.refresh_from_db()
    assert account.pool_due_at is None  # no rule for C: never returns
    services.update_account(rep, account, {"classification": ""}, version=account.version)
    account.refresh_from_db()
    assert account.pool_due_at == note.created_at + 10 * DAY


def test_settings_replace_rules_recompute_deadlines_and_refuse_bad_input(users, rules):
    admin, rep = users["admin"], users["rep_a"]
    account = services.create_account(rep, {"name": "规则客户", "classification": "B"})
    with pytest.raises(PermissionDenied):
        pool.set_pool_settings(rep, {"rules": []})
    with pytest.raises(ValidationError) as err:
        pool.set_pool_settings(
            admin,
            {
                "rules": [
                    {"classification": "Z", "return_days": 5},
                    {"classification": "A", "return_days": 5, "warn_days": 5},
                ],
                "default_claim_limit": -1,
                "claim_limits": [{"role": "sales_rep"}],
            },
        )
    assert set(err.value.message_dict) == {
        "rules.0.classification",
        "rules.1.warn_days",
        "default_claim_limit",
        "claim_limits.0.max_claimed",
    }
    out = pool.set_pool_settings(
        admin,
        {
            "rules": [{"classification": "B", "return_days": 60, "warn_days": 7, "cooldown_days": 3}],
            "default_claim_limit": 10,
            "claim_limits": [{"user_id": rep.pk, "max_claimed": 4}],
        },
    )
    assert out["rules"] == [{"classification": "B", "return_days": 60, "warn_days": 7, "cooldown_days": 3}]
    assert out["default_claim_limit"] == 10 and out["claim_limits"] == [
        {"role": None, "user_id": rep.pk, "max_claimed": 4}
    ]
    account.refresh_from_db()
    assert account.pool_due_at == account.last_follow_up_at + 60 * DAY
    assert pool.claim_limit(rep) == 4 and pool.claim_limit(users["rep_b"]) == 10


def _claim_in_thread(user, account_id, outcomes, barrier):
    try:
        barrier.wait(timeout=10)
        for _attempt in range(200):
            try:
                pool.claim(user, [account_id])
                outcomes.append(("won", user.username))
            except pool.ClaimTaken:
                outcomes.append(("taken", user.username))
            except OperationalError as exc:
                # SQLite's in-memory test database (shared cache) refuses a second writer at BEGIN instead of
                # waiting like a file database does; the user would send the request again.
                if "locked" not in str(exc):
                    raise
                time.sleep(0.01)
                continue
            break
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_account_exactly_one_wins(users, rules):
    account = _pool_account(users["admin"], "抢单客户")
    outcomes: list[tuple[str, str]] = []
    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=_claim_in_thread, args=(users[name], account.pk, outcomes, barrier))
        for name in ("rep_a", "rep_b")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(kind for kind, _name in outcomes) == ["taken", "won"]
    winner = next(name for kind, name in outcomes if kind == "won")
    account.refresh_from_db()
    assert account.owner.username == winner
    assert audit_trail(account).filter(action="assign").count() == 1


def test_demo_starts_some_accounts_in_the_pool_with_rules(db):
    from guanxi.core import demo

    demo.load(200, seed=7)
    in_pool = Account.objects.filter(owner__isnull=True)
    assert in_pool.count() == 3 and not in_pool.filter(opportunities__isnull=False).exists()
    assert not in_pool.filter(pool_entered_at__isnull=True).exists() and not in_pool.filter(release_reason="").exists()
    assert set(PoolRule.objects.values_list("classification", flat=True)) == {"", "A", "B", "C", "D"}
    owned = Account.objects.filter(owner__isnull=False)
    assert not owned.filter(pool_due_at__isnull=True).exists()
    assert owned.values("last_follow_up_at").distinct().count() > 1
