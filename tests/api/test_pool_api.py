"""/api/v1/pool, /pool/{id}/claim, /accounts/{id}/release and /pool-rules."""

import pytest

from guanxi.customers import pool_services, services
from guanxi.customers.models import Account, ClaimLimit, PoolRule


@pytest.fixture
def pooled(users):
    PoolRule.objects.create(classification="A", return_days=30, warn_days=3, cooldown_days=7)
    ClaimLimit.objects.create(max_claimed=2)
    admin = users["admin"]
    return [
        services.create_account(
            admin,
            {
                "name": f"公海客户{i}",
                "classification": "A",
                "owner_id": None,
                "industry": "it",
                "addresses": [{"line": "广东省深圳市南山区科技园"}],
            },
        )
        for i in range(5)
    ]


def test_pool_list_pages_with_a_cursor_filters_and_hides_others_accounts(
    api, users, pooled, django_assert_max_num_queries
):
    services.create_account(users["rep_b"], {"name": "华南私有客户", "classification": "A"})
    with django_assert_max_num_queries(6):  # token, user, page, claim limit, count: not one per row
        first = api["rep_a"].get("pool", {"limit": 3})
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 3 and body["next"] and body["remaining_claims"] == 2
    assert body["items"][0]["province"] == "广东省" and body["items"][0]["days_in_pool"] == 0
    rest = api["rep_a"].get("pool", {"limit": 3, "cursor": body["next"]}).json()
    names = {i["name"] for i in body["items"] + rest["items"]}
    assert names == {a.name for a in pooled} and rest["next"] is None  # not 华南私有客户
    assert api["rep_a"].get("pool", {"province": "北京"}).json()["items"] == []
    assert api["rep_a"].get("pool", {"min_days": 1}).json()["items"] == []
    bad = api["rep_a"].get("pool", {"classification": "Z", "cursor": "nope"})
    assert bad.status_code == 400 and "classification" in bad.json()["errors"]


def test_claim_then_409_for_the_second_400_past_the_limit_404_for_unknown(api, users, pooled):
    first = api["rep_a"].post(f"pool/{pooled[0].pk}/claim")
    assert first.status_code == 200 and first.json()["remaining_claims"] == 1
    second = api["rep_b"].post(f"pool/{pooled[0].pk}/claim")
    assert second.status_code == 409 and second.json()["errors"]["ids"]
    bulk = api["rep_a"].post("pool/claim", {"ids": [pooled[1].pk, pooled[2].pk]})
    assert bulk.status_code == 400 and "limit" in bulk.json()["errors"]
    assert api["rep_a"].post("pool/999999/claim").status_code == 404
    private = services.create_account(users["rep_b"], {"name": "从未入池"})
    assert api["rep_a"].post(f"pool/{private.pk}/claim").status_code == 404
    assert api["viewer"].post(f"pool/{pooled[1].pk}/claim").status_code == 403


def test_release_needs_a_reason_and_the_owner(api, users, pooled):
    pool_services.claim(users["rep_a"], [pooled[0].pk])
    url = f"accounts/{pooled[0].pk}/release"
    assert api["rep_b"].post(url, {"reason": "x"}).status_code == 404  # not theirs: not visible
    assert api["rep_a2"].post(url, {"reason": "x"}).status_code == 404
    missing = api["rep_a"].post(url, {})
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    blank = api["rep_a"].post(url, {"reason": " "})
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]
    done = api["rep_a"].post(url, {"reason": "预算取消"})
    assert done.status_code == 200 and done.json()["release_reason"] == "预算取消"
    assert Account.objects.get(pk=pooled[0].pk).owner_id is None
    again = api["rep_a"].post(url, {"reason": "再来"})
    assert again.status_code == 400 and "owner_id" in again.json()["errors"]


def test_pool_rules_get_and_put(api, users, pooled):
    assert api["rep_a"].get("pool-rules").json()["rules"][0]["classification"] == "A"
    body = {
        "rules": [{"classification": "", "return_days": 15, "warn_days": 3, "cooldown_days": 2}],
        "default_claim_limit": 5,
        "claim_limits": [{"role": "sales_rep", "max_claimed": 8}],
    }
    assert api["rep_a"].put("pool-rules", body).status_code == 403
    bad = api["admin"].put("pool-rules", {"rules": [{"classification": "A", "return_days": 3, "warn_days": 3}]})
    assert bad.status_code == 400 and "rules.0.warn_days" in bad.json()["errors"]
    invalid = api["admin"].put("pool-rules", {"rules": [{"classification": "A", "return_days": -1}]})
    assert invalid.status_code == 400 and "rules.0.return_days" in invalid.json()["errors"]
    ok = api["admin"].put("pool-rules", body)
    assert ok.status_code == 200
    assert ok.json() == {**body, "claim_limits": [{"role": "sales_rep", "user_id": None, "max_claimed": 8}]}
    assert pool_services.claim_limit(users["rep_a"]) == 8
