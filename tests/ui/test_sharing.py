"""Sharing from the detail page: another team's rep sees the record until it is unshared."""

from guanxi.core.models import Share


def test_a_rep_shares_a_contact_with_another_team_and_stops(users, teams, zhang, client):
    _account, contact = zhang
    client.force_login(users["rep_b"])
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404
    assert client.post(f"/contacts/{contact.pk}/shares/", {"target": f"team:{teams['b'].pk}"}).status_code == 404

    client.force_login(users["rep_a"])
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "华南销售" in page and 'name="target"' in page
    r = client.post(f"/contacts/{contact.pk}/shares/", {"target": f"team:{teams['b'].pk}"}, follow=True)
    assert r.status_code == 200
    share = Share.objects.get(object_id=contact.pk)
    assert "华南销售" in client.get(f"/contacts/{contact.pk}/").content.decode()

    client.force_login(users["rep_b"])
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "张伟" in page  # a share lets them work on it, as its owner's team does

    client.force_login(users["rep_a"])
    client.post(f"/contacts/{contact.pk}/shares/{share.pk}/delete/")
    client.force_login(users["rep_b"])
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404


def test_nonsense_targets_are_refused_with_a_message(users, zhang, client):
    _account, contact = zhang
    client.force_login(users["rep_a"])
    for target in ("", "user:abc", "team:999999", "planet:1"):
        r = client.post(f"/contacts/{contact.pk}/shares/", {"target": target}, follow=True)
        assert r.status_code == 200
    assert not Share.objects.exists()
    assert client.get(f"/contacts/{contact.pk}/shares/").status_code == 405


def test_a_read_only_user_sees_no_share_form(users, zhang, client):
    client.force_login(users["viewer"])
    account, _contact = zhang
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="shares"' in page and 'name="target"' not in page


def test_digit_like_characters_are_refused_not_a_server_error(users, zhang, client):
    _account, contact = zhang
    client.force_login(users["rep_a"])
    for target in ("team:²", "user:１２", "team:99999999999999999999999"):
        assert client.post(f"/contacts/{contact.pk}/shares/", {"target": target}, follow=True).status_code == 200
    assert not Share.objects.exists()
