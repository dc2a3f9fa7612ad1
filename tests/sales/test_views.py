"""The sales pages: access (another rep's opportunity is a 404 and never listed), a constant number of queries
on the board and the list whatever the number of cards, the "more" page of a column, the form's errors."""

import pytest

from guanxi.sales import services
from guanxi.sales.models import Opportunity

pytestmark = pytest.mark.django_db


def _many(user, account, stage, n):
    return [services.create_opportunity(user, {"name": f"商机 {i}", "account_id": account.pk, "amount": 100 + i,
                                               "stage_id": stage.pk}) for i in range(n)]


def test_rep_b_cannot_see_rep_as_opportunity(client, users, deal, pipeline):
    client.force_login(users["rep_b"])
    for url in (f"/sales/opportunities/{deal.pk}/", f"/sales/opportunities/{deal.pk}/edit/",
                f"/sales/opportunities/{deal.pk}/delete/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/sales/opportunities/{deal.pk}/reopen/", {"version": 1}).status_code == 404
    assert "CT 设备采购" not in client.get("/sales/opportunities/").content.decode()
    board = client.get(f"/sales/pipelines/{pipeline.pk}/board/").content.decode()
    assert "CT 设备采购" not in board
    client.force_login(users["rep_a"])
    assert "CT 设备采购" in client.get(f"/sales/pipelines/{pipeline.pk}/board/").content.decode()


@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_board_queries_do_not_grow_with_cards(client, users, zhang, pipeline, stages, who,
                                              django_assert_max_num_queries):
    account, _contact = zhang
    client.force_login(users[who])
    url = f"/sales/pipelines/{pipeline.pk}/board/"
    _many(users["rep_a"], account, stages["open"][0], 2)
    with django_assert_max_num_queries(21) as few:  # 20 + the notification bell
        assert client.get(url).status_code == 200
    _many(users["rep_a"], account, stages["open"][1], 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('class="card gx-deal') == 2 + 25  # the second column shows its first 25
    assert 'data-more' in html


def test_more_loads_the_next_cards_of_a_column(client, users, zhang, pipeline, stages):
    account, _contact = zhang
    created = _many(users["rep_a"], account, stages["open"][1], 30)
    client.force_login(users["rep_a"])
    html = client.get(f"/sales/pipelines/{pipeline.pk}/board/").content.decode()
    cursor = html.split(f"/sales/pipelines/{pipeline.pk}/board/{stages['open'][1].pk}/?cursor=")[1].split('"')[0]
    more = client.get(f"/sales/pipelines/{pipeline.pk}/board/{stages['open'][1].pk}/?cursor={cursor}",
                      headers={"HX-Request": "true"}).content.decode()
    assert more.count('class="card gx-deal') == 5
    assert f'id="card-{created[0].pk}"' in more  # the oldest change comes last
    assert "data-more" not in more


def test_list_queries_do_not_grow_with_rows(client, users, zhang, stages, django_assert_max_num_queries):
    account, _contact = zhang
    client.force_login(users["rep_a"])
    _many(users["rep_a"], account, stages["open"][0], 2)
    with django_assert_max_num_queries(20) as few:
        client.get("/sales/opportunities/")
    _many(users["rep_a"], account, stages["open"][2], 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/sales/opportunities/", {"stage": stages["open"][2].pk}).content.decode()
    assert html.count("<tr data-id=") == 40
    bad = client.get("/sales/opportunities/", {"close_month": "2031-13"}).content.decode()
    assert 'id="filter-errors"' in bad


def test_create_through_the_form_and_errors_by_field(client, users, zhang, stages):
    account, contact = zhang
    client.force_login(users["rep_a"])
    r = client.post("/sales/opportunities/new/", {"name": "", "account_id": "", "amount": "-3"})
    assert r.status_code == 200 and 'id="form-errors"' in r.content.decode()
    assert not Opportunity.objects.exists()
    r = client.post("/sales/opportunities/new/", {"name": "体检中心", "account_id": account.pk, "amount": "5000",
                                                  "contact_id": contact.pk, "owner_id": users["rep_a"].pk,
                                                  "expected_close": "2031-05-01"})
    opp = Opportunity.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/sales/opportunities/{opp.pk}/"
    assert opp.contact == contact and opp.stage == stages["open"][0]
    r = client.post(f"/sales/opportunities/{opp.pk}/edit/", {
        "version": 1, "name": "体检中心", "account_id": account.pk, "amount": "5000", "owner_id": users["rep_a"].pk,
        "stage_id": stages["lost"].pk})
    assert "lost_reason" in r.context["form"].errors
    assert Opportunity.objects.get().version == 1
    detail = client.get(f"/sales/opportunities/{opp.pk}/").content.decode()
    assert "体检中心" in detail and "5000.00" in detail


def test_reopen_from_the_detail_page(client, users, deal, stages):
    services.move_stage(users["rep_a"], deal, stages["won"].pk, 1)
    client.force_login(users["rep_a"])
    assert 'id="reopen-form"' in client.get(f"/sales/opportunities/{deal.pk}/").content.decode()
    client.post(f"/sales/opportunities/{deal.pk}/reopen/", {"version": 2, "stage_id": stages["open"][2].pk})
    assert Opportunity.objects.get().stage == stages["open"][2]
