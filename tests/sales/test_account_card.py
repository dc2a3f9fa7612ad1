"""The "Open opportunities" card on the account page: only open ones the user may see, with stage, amount and
expected close, a link to add one for this account, and the same number of queries however many there are."""

import re

import pytest

from guanxi.sales import services

pytestmark = pytest.mark.django_db


def _card(client, account):
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="account-opportunities"' in page
    return page.split('id="account-opportunities"')[1].split('id="tab-timeline"')[0]


def test_the_card_lists_the_open_opportunities_the_user_may_see(client, users, zhang, deal, stages):
    account, _contact = zhang
    admin = users["admin"]
    won = services.create_opportunity(users["rep_a"], {"name": "已签年度合同", "account_id": account.pk,
                                                       "stage_id": stages["won"].pk, "amount": "5000"})
    theirs = services.create_opportunity(admin, {"name": "<script>alert(1)</script>", "account_id": account.pk,
                                                 "owner_id": users["rep_a2"].pk, "amount": "800"})
    client.force_login(users["rep_a"])
    card = _card(client, account)
    assert "CT 设备采购" in card and stages["open"][0].name in card
    assert re.search(r"120,?000\.00 CNY", card) and "2031-03-15" in card
    assert f'href="/sales/opportunities/{deal.pk}/"' in card
    assert won.name not in card  # closed
    assert "alert(1)" not in card  # rep_a2's, not visible to rep_a
    assert f'href="/sales/opportunities/new/?account={account.pk}"' in card

    client.force_login(users["manager_a"])
    card = _card(client, account)
    assert f'data-opportunity="{theirs.pk}"' in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "<script>alert" not in card

    client.force_login(users["viewer"])
    assert 'id="add-opportunity"' not in _card(client, account)


def test_the_add_link_opens_the_form_with_the_account_chosen(client, users, zhang):
    account, _contact = zhang
    client.force_login(users["rep_a"])
    form = client.get(f"/sales/opportunities/new/?account={account.pk}").content.decode()
    assert f'name="account_id" value="{account.pk}" checked' in form


def test_an_account_without_opportunities_says_so(client, users, zhang):
    account, _contact = zhang
    client.force_login(users["rep_a"])
    card = _card(client, account)
    assert 'id="no-opportunities"' in card and "data-opportunity=" not in card


@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_the_card_costs_the_same_queries_however_many_opportunities(client, users, zhang, deal, stages, who,
                                                                    django_assert_max_num_queries):
    account, _contact = zhang
    client.force_login(users[who])
    url = f"/accounts/{account.pk}/"
    with django_assert_max_num_queries(60) as few:
        assert client.get(url).status_code == 200
    queries = len(few.captured_queries)
    for i in range(25):
        services.create_opportunity(users["rep_a"], {"name": f"商机 {i}", "account_id": account.pk,
                                                     "stage_id": stages["open"][i % 4].pk, "amount": 100 + i})
    with django_assert_max_num_queries(queries):
        page = client.get(url).content.decode()
    card = page.split('id="account-opportunities"')[1]
    assert card.count("data-opportunity=") == 20
    assert f"?account={account.pk}&amp;status=open" in card  # more than fit: a link to the rest
