"""People and settings through the API: profile, users and teams, tokens, saved views, sharing."""

from guanxi.core.models import AuditEntry, Team, User

from .conftest import ApiClient


def test_a_user_sets_their_language_and_time_zone(api):
    r = api["rep_a"].patch("users/me", {"language": "en", "time_zone": "Europe/Berlin", "first_name": " Ada "})
    assert r.status_code == 200, r.json()
    assert (r.json()["language"], r.json()["time_zone"], r.json()["first_name"]) == ("en", "Europe/Berlin", "Ada")
    r = api["rep_a"].patch("users/me", {"language": "fr", "time_zone": "Mars/Olympus"})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"language", "time_zone"}
    assert User.objects.get(username="rep_a").language == "en"  # nothing of the failed change stored


def test_administrators_add_and_change_users_and_nobody_else_can(api, teams):
    body = {"username": "li_na", "password": "long-enough-1", "role": "service_agent", "team_id": teams["b"].pk}
    assert api["manager_a"].post("users", body).status_code == 403
    r = api["admin"].post("users", body)
    assert r.status_code == 201, r.json()
    new = r.json()
    assert (new["role"], new["team"]["id"]) == ("service_agent", teams["b"].pk)
    r = api["admin"].post("users", {**body, "team_id": 999999, "password": "short"})
    assert r.status_code == 400 and {"username", "password", "team_id"} <= set(r.json()["errors"])
    r = api["admin"].patch(f"users/{new['id']}", {"role": "sales_manager", "team_id": teams["a"].pk})
    assert (r.json()["role"], r.json()["team"]["id"]) == ("sales_manager", teams["a"].pk)
    assert api["admin"].patch(f"users/{new['id']}", {"role": "king"}).status_code == 400
    assert api["rep_a"].patch(f"users/{new['id']}", {"is_active": False}).status_code == 403
    assert api["admin"].patch(f"users/{new['id']}", {"is_active": False}).status_code == 200
    assert not User.objects.get(pk=new["id"]).is_active


def test_an_administrator_cannot_lock_themselves_out(api, users):
    me = users["admin"].pk
    r = api["admin"].patch(f"users/{me}", {"is_active": False, "role": "sales_rep"})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"is_active", "role"}
    assert User.objects.get(pk=me).is_active and User.objects.get(pk=me).role == "admin"


def test_teams_are_added_renamed_and_moved_without_cycles(api, teams):
    r = api["admin"].post("teams", {"name": "华东销售", "parent_id": teams["company"].pk})
    assert r.status_code == 201, r.json()
    east = r.json()
    assert east["path"] == f"{teams['company'].path}{east['id']}/"
    assert api["rep_a"].post("teams", {"name": "x"}).status_code == 403
    r = api["admin"].patch(f"teams/{east['id']}", {"parent_id": teams["a"].pk, "name": "华东"})
    assert r.status_code == 200 and r.json()["path"] == f"{teams['a'].path}{east['id']}/"
    r = api["admin"].patch(f"teams/{teams['company'].pk}", {"parent_id": east["id"]})
    assert r.status_code == 400 and "parent_id" in r.json()["errors"]
    assert api["admin"].patch(f"teams/{east['id']}", {"name": "华南销售"}).status_code == 400  # taken
    assert Team.objects.get(pk=east["id"]).name == "华东"


def test_tokens_are_issued_listed_and_revoked_through_the_api(api):
    r = api["rep_a"].post("tokens", {"name": "ERP 同步"})
    assert r.status_code == 201, r.json()
    secret, token_id = r.json()["token"], r.json()["id"]
    erp = ApiClient(secret)
    assert erp.get("users/me").json()["username"] == "rep_a"
    listed = api["rep_a"].get("tokens").json()
    assert "ERP 同步" in [t["name"] for t in listed] and secret not in str(listed)
    assert api["rep_b"].delete(f"tokens/{token_id}").status_code == 404  # not theirs
    assert api["rep_a"].delete(f"tokens/{token_id}").status_code == 204
    assert erp.get("users/me").status_code == 401
    assert api["rep_a"].post("tokens", {"name": "  "}).status_code == 400


def test_saved_views_belong_to_their_user(api):
    r = api["rep_a"].post("saved-views", {"model": "contact", "name": "A 类", "query": "classification=A&cursor=x"})
    assert r.status_code == 201, r.json()
    view = r.json()
    assert view["query"] == "classification=A"  # a saved view starts on its first page
    assert [v["name"] for v in api["rep_a"].get("saved-views", {"model": "contact"}).json()] == ["A 类"]
    assert api["rep_b"].get("saved-views").json() == []
    assert api["rep_b"].delete(f"saved-views/{view['id']}").status_code == 404
    assert api["rep_a"].post("saved-views", {"model": "order", "name": ""}).status_code == 400
    assert api["rep_a"].delete(f"saved-views/{view['id']}").status_code == 204
    assert api["rep_a"].get("saved-views").json() == []


def test_sharing_a_contact_lets_the_other_rep_see_it_until_unshared(api, users, teams, zhang):
    _account, contact = zhang
    assert api["rep_b"].get(f"contacts/{contact.pk}").status_code == 404
    assert api["rep_b"].post(f"contacts/{contact.pk}/shares", {"user_id": users["rep_b"].pk}).status_code == 404
    assert api["viewer"].post(f"contacts/{contact.pk}/shares", {"user_id": users["rep_b"].pk}).status_code == 403
    r = api["rep_a"].post(f"contacts/{contact.pk}/shares", {"user_id": users["rep_b"].pk})
    assert r.status_code == 201, r.json()
    share = r.json()
    assert api["rep_b"].get(f"contacts/{contact.pk}").json()["name"] == "张伟"
    assert [s["user"]["id"] for s in api["rep_a"].get(f"contacts/{contact.pk}/shares").json()] == [users["rep_b"].pk]
    entry = AuditEntry.objects.filter(object_id=contact.pk, changes__has_key="shared_with").latest("id")
    assert entry.changes["shared_with"] == [None, "user:rep_b"]
    assert api["rep_a"].delete(f"contacts/{contact.pk}/shares/{share['id']}").status_code == 204
    assert api["rep_b"].get(f"contacts/{contact.pk}").status_code == 404
    r = api["rep_a"].post(f"contacts/{contact.pk}/shares", {"user_id": users["rep_b"].pk, "team_id": teams["b"].pk})
    assert r.status_code == 400
    assert api["rep_a"].post(f"contacts/{contact.pk}/shares", {"team_id": 999999}).status_code == 400


def test_sharing_an_account_with_a_team(api, teams, zhang):
    account, _contact = zhang
    r = api["rep_a"].post(f"accounts/{account.pk}/shares", {"team_id": teams["b"].pk})
    assert r.status_code == 201 and r.json()["team"]["name"] == "华南销售"
    assert api["rep_b"].get(f"accounts/{account.pk}").status_code == 200
    assert api["rep_b"].get("search", {"q": "北京星辰"}).json()["counts"]["accounts"] == 1
