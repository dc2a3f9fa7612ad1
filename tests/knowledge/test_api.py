"""/api/v1/articles, /articles/suggest, /articles/{id}/feedback, /searches/{id}, /bulletins."""

import pytest

from guanxi.core.services import issue_token
from guanxi.knowledge import services
from guanxi.knowledge.models import SearchLog
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users):
    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


def test_search_ranks_pages_with_a_cursor_and_logs_the_search(api, kb, users, django_assert_max_num_queries):
    for i in range(4):
        services.create_article(users["admin"], {"title": f"密码策略 {i}", "status": "published"})
    with django_assert_max_num_queries(12):
        r = api["rep_a"].get("articles", {"q": "密码", "limit": 3})
    assert r.status_code == 200, r.content
    first = r.json()
    assert len(first["items"]) == 3 and first["next"]
    assert all(item["score"] == 3 for item in first["items"])  # title matches first
    rest = api["rep_a"].get("articles", {"q": "密码", "limit": 3, "cursor": first["next"]}).json()
    titles = [i["title"] for i in first["items"] + rest["items"]]
    assert titles[-1] == "VPN 连接失败的排查" and len(set(titles)) == 6  # body-only match last, none twice
    assert SearchLog.objects.get(pk=first["search_id"]).results_count == 3
    assert SearchLog.objects.count() == 1  # the second page is the same search
    public = api["rep_a"].get("articles", {"q": "账号", "public_only": "true"}).json()
    assert [i["title"] for i in public["items"]] == ["如何重置密码"]


def test_list_queries_do_not_grow_with_rows(api, kb, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(8) as few:
        assert api["rep_a"].get("articles").status_code == 200
    for i in range(20):
        services.create_article(users["admin"], {"title": f"文章 {i}", "status": "published", "tags": ["t"]})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api["rep_a"].get("articles").json()["items"]) == 25


def test_create_patch_conflict_versions_and_restore(api):
    r = api["admin"].post("articles", {"title": "How to export contacts", "body": "Use **Export**.",
                                       "language": "en", "visibility": "public", "status": "published"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert "<strong>Export</strong>" in body["body_html"]
    aid = body["id"]
    r = api["admin"].patch(f"articles/{aid}", {"version": 1, "body": "<script>alert(1)</script>"})
    assert r.status_code == 200 and "<script>" not in r.json()["body_html"]
    r = api["admin"].patch(f"articles/{aid}", {"version": 1, "title": "stale"})
    assert r.status_code == 409 and r.json()["current"]["version"] == 2
    assert [v["number"] for v in api["admin"].get(f"articles/{aid}/versions").json()] == [1]
    r = api["admin"].post(f"articles/{aid}/versions/1/restore", {"version": 2})
    assert r.status_code == 200 and r.json()["body"] == "Use **Export**."


def test_bad_input_is_a_400_naming_fields(api):
    r = api["admin"].post("articles", {"title": "", "visibility": "secret", "category_id": 0})
    assert r.status_code == 400 and "category_id" in r.json()["errors"]
    r = api["admin"].post("articles", {"title": "", "visibility": "secret"})
    assert r.status_code == 400 and {"title", "visibility"} <= set(r.json()["errors"])
    r = api["admin"].post("bulletins", {"title": "x", "expires_at": "tomorrow"})
    assert r.status_code == 400 and "expires_at" in r.json()["errors"]
    assert api["viewer"].post("articles", {"title": "x"}).status_code == 403
    # A query of punctuation only has no words to search for: an empty page, not an error.
    r = api["admin"].get("articles", params={"q": "]"})
    assert r.status_code == 200 and r.json()["items"] == []


def test_what_a_user_may_not_see_is_a_404(api, kb, users, teams):
    assert api["viewer"].get(f"articles/{kb['draft'].pk}").status_code == 404
    assert api["rep_a"].get(f"articles/{kb['draft'].pk}").status_code == 200
    note = services.post_bulletin(users["manager_a"], {"title": "华北", "team_id": teams["a"].pk})
    assert api["rep_b"].get(f"bulletins/{note.pk}").status_code == 404
    assert api["rep_b"].post(f"bulletins/{note.pk}/comments", {"body": "hi"}).status_code == 404
    assert api["rep_a"].get(f"bulletins/{note.pk}").status_code == 200


def test_feedback_suggest_and_search_outcome(api, kb):
    aid = kb["reset_zh"].pk
    api["rep_a"].post(f"articles/{aid}/feedback", {"helpful": True})
    r = api["rep_a"].post(f"articles/{aid}/feedback", {"helpful": False, "comment": "步骤不全"})
    assert r.json() == {"helpful": False, "helpful_count": 0, "not_helpful_count": 1}
    assert api["rep_a"].post(f"articles/{aid}/feedback", {"helpful": "maybe"}).status_code == 400
    r = api["rep_a"].get("articles/suggest", {"text": "客户说忘记密码了，怎么重置？", "public_only": "true"})
    assert [i["title"] for i in r.json()["items"]][0] == "如何重置密码"
    search_id = api["rep_a"].get("articles", {"q": "重置密码"}).json()["search_id"]
    r = api["rep_a"].post(f"searches/{search_id}", {"clicked_article_id": aid, "ended_without_ticket": True})
    assert r.status_code == 200 and r.json()["ended_without_ticket"] is True


def test_bulletins_read_receipts_and_comments(api, users, django_assert_max_num_queries):
    for i in range(3):
        services.post_bulletin(users["admin"], {"title": f"公告 {i}"})
    r = api["rep_a"].post("bulletins", {"title": "客户反馈汇总", "body": "见下"})
    assert r.status_code == 201 and r.json()["is_read"] is True
    with django_assert_max_num_queries(6):
        items = api["rep_a"].get("bulletins").json()["items"]
    assert [i["is_read"] for i in items] == [True, False, False, False]
    assert api["rep_a"].post(f"bulletins/{items[1]['id']}/read").status_code == 204
    assert api["rep_a"].post(f"bulletins/{items[1]['id']}/comments", {"body": "收到"}).status_code == 201
    again = api["rep_a"].get(f"bulletins/{items[1]['id']}").json()
    assert again["is_read"] is True and again["comment_count"] == 1


def test_bulletin_kinds_in_the_api_and_the_board_filtered_by_kind(api, users):
    r = api["rep_a"].post("bulletins", {"title": "竞品 A 推出免费版", "kind": "competitor"})
    assert r.status_code == 201 and r.json()["kind"] == "competitor"
    assert api["rep_a"].post("bulletins", {"title": "例会改到周四"}).json()["kind"] == "general"
    assert api["rep_a"].post("bulletins", {"title": "x", "kind": "rumour"}).status_code == 400
    titles = [i["title"] for i in api["rep_a2"].get("bulletins", {"kind": "competitor"}).json()["items"]]
    assert titles == ["竞品 A 推出免费版"]
    assert len(api["rep_a2"].get("bulletins").json()["items"]) == 2
    assert api["rep_a2"].get("bulletins", {"kind": "rumour"}).status_code == 400


def test_bulletin_read_receipts_in_the_api(api, users, teams, django_assert_max_num_queries):
    from guanxi.core.services import create_user

    note = services.post_bulletin(users["rep_a"], {"title": "华北价格调整", "team_id": teams["a"].pk})
    assert api["rep_a2"].post(f"bulletins/{note.pk}/read").status_code == 204
    with django_assert_max_num_queries(8):
        r = api["rep_a"].get(f"bulletins/{note.pk}/reads")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["read_count"], body["audience_count"]) == (2, 5)
    assert [row["user"]["name"] for row in body["read"]] == ["rep_a", "rep_a2"]
    assert sorted(u["name"] for u in body["not_read"]) == ["admin", "manager_a", "viewer"]
    assert api["rep_a2"].get(f"bulletins/{note.pk}/reads").status_code == 403
    assert api["rep_b"].get(f"bulletins/{note.pk}/reads").status_code == 404  # outside the audience
    for i in range(25):
        reader = create_user(None, username=f"agent{i}", password="correct-horse-9", role="sales_rep",
                             team=teams["a"])
        services.mark_read(reader, note)
    with django_assert_max_num_queries(8):
        body = api["manager_a"].get(f"bulletins/{note.pk}/reads").json()
    assert (body["read_count"], body["audience_count"]) == (27, 29)  # the manager's team: not the administrator
