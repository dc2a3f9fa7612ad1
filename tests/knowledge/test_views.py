"""The knowledge-base pages: search box, article page (views, votes, versions), editor, FAQ page, board."""

import pytest

from guanxi.knowledge import services
from guanxi.knowledge.models import Bulletin, SearchLog, SearchSource

pytestmark = pytest.mark.django_db


def test_home_search_and_article_page(client, users, kb, django_assert_max_num_queries):
    client.force_login(users["rep_a"])
    with django_assert_max_num_queries(20) as few:
        html = client.get("/kb/").content.decode()
    assert "如何重置密码" in html and "退款政策" in html  # an editor sees drafts in their own list
    for i in range(15):
        services.create_article(users["admin"], {"title": f"文章 {i}", "status": "published", "tags": ["t"]})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/kb/")
    html = client.get("/kb/search/", {"q": "密码"}, headers={"HX-Request": "true"}).content.decode()
    assert html.index("如何重置密码") < html.index("VPN 连接失败的排查")
    assert SearchLog.objects.get().source == SearchSource.AGENT
    page = client.get(f"/kb/articles/{kb['reset_zh'].pk}/").content.decode()
    assert "<strong>设置</strong>" in page
    kb["reset_zh"].refresh_from_db()
    assert kb["reset_zh"].view_count == 1


def test_user_content_is_escaped(client, users):
    article = services.create_article(users["admin"], {
        "title": "<img src=x onerror=alert(1)>", "body": "<script>alert(1)</script> [x](javascript:alert(1))",
        "status": "published"})
    client.force_login(users["rep_a"])
    html = client.get(f"/kb/articles/{article.pk}/").content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html and 'href="javascript:' not in html


def test_vote_edit_and_restore_through_the_pages(client, users, kb):
    article = kb["reset_zh"]
    client.force_login(users["rep_a"])
    r = client.post(f"/kb/articles/{article.pk}/feedback/", {"helpful": "yes"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="kb-feedback"' in r.content.decode()
    form = {"visibility": "public", "language": "zh-hans"}
    r = client.post(f"/kb/articles/{article.pk}/edit/", {**form, "version": 1, "title": "新版", "body": "新步骤"})
    assert r.status_code == 302
    r = client.post(f"/kb/articles/{article.pk}/edit/", {**form, "version": 1, "title": "过期的编辑", "body": "x"})
    assert r.status_code == 200 and 'id="form-errors"' in r.content.decode()
    assert client.get(f"/kb/articles/{article.pk}/versions/1/").status_code == 200
    client.post(f"/kb/articles/{article.pk}/versions/1/restore/", {"version": 2})
    article.refresh_from_db()
    assert (article.title, article.helpful_count) == ("如何重置密码", 1)
    client.force_login(users["viewer"])
    assert client.get(f"/kb/articles/{kb['draft'].pk}/").status_code == 404
    assert client.get(f"/kb/articles/{article.pk}/edit/").status_code == 403


def test_suggestions_fragment_for_a_reply_box(client, users, kb):
    client.force_login(users["rep_a"])
    html = client.get("/kb/suggest/", {"text": "客户的 VPN 连不上"}).content.decode()
    assert "VPN 连接失败的排查" in html
    assert "VPN 连接失败的排查" not in client.get("/kb/suggest/", {"text": "VPN", "public_only": "1"}).content.decode()


def test_faq_statistics_page(client, users, kb):
    for q in ("如何重置密码", "重置密码？", "发票"):
        log = services.record_search(q, results_count=1, source=SearchSource.PORTAL, visitor_key="v")
    services.mark_search(log, ended_without_ticket=True)
    client.force_login(users["manager_a"])
    html = client.get("/kb/faq/", {"days": 7}).content.decode()
    assert 'id="deflection-rate">33 %' in html
    assert html.index("密码 重置") < html.index("发票")


def test_bulletin_board_pinned_first_unread_badges_and_comments(client, users, teams):
    services.post_bulletin(users["rep_b"], {"title": "华南消息"})
    client.force_login(users["manager_a"])
    r = client.post("/kb/bulletins/", {"title": "本周重点", "body": "**冲刺**", "team_id": teams["a"].pk,
                                       "pinned": "on"})
    assert r.status_code == 302
    pinned = client.get("/kb/bulletins/").content.decode()
    assert pinned.index("本周重点") < pinned.index("华南消息")
    client.force_login(users["rep_a"])
    html = client.get("/kb/bulletins/").content.decode()
    assert html.count("unread-badge") == 2
    bulletin = Bulletin.objects.get(title="本周重点")
    r = client.post(f"/kb/bulletins/{bulletin.pk}/", {"body": "<b>收到</b>"})
    assert r.status_code == 302
    detail = client.get(f"/kb/bulletins/{bulletin.pk}/").content.decode()
    assert "&lt;b&gt;收到&lt;/b&gt;" in detail and "<strong>冲刺</strong>" in detail
    assert client.get("/kb/bulletins/").content.decode().count("unread-badge") == 1
    client.force_login(users["rep_b"])
    assert client.get(f"/kb/bulletins/{bulletin.pk}/").status_code == 404


def test_demo_knowledge_base(db):
    from guanxi.core import demo
    from guanxi.knowledge import queries
    from guanxi.knowledge.models import Article

    demo.load(50, seed=3)
    assert Article.objects.filter(title="如何重置密码").get().versions.count() == 1
    assert Article.objects.filter(language="en").count() == 2
    assert set(a.title for a in queries.search(Article.objects.visible_to(None), "密码")) >= {"如何重置密码"}
    assert queries.deflection(*queries.period(1)).deflected == 4
    assert Bulletin.objects.get().pinned


@pytest.mark.usefixtures("english")  # reads the English labels
def test_board_shows_kind_badges_filters_by_kind_and_the_author_sees_who_read(client, users, teams,
                                                                             django_assert_max_num_queries):
    from guanxi.core.services import create_user

    client.force_login(users["rep_a"])
    r = client.post("/kb/bulletins/", {"title": "发票系统故障", "kind": "known_issue", "team_id": teams["a"].pk})
    assert r.status_code == 302
    services.post_bulletin(users["rep_a"], {"title": "新品上市", "kind": "product"})
    html = client.get("/kb/bulletins/").content.decode()
    assert 'data-kind="known_issue">Known issue</span>' in html and 'data-kind="product">Product news' in html
    only = client.get("/kb/bulletins/", {"kind": "known_issue"}).content.decode()
    assert "发票系统故障" in only and "新品上市" not in only
    assert "新品上市" in client.get("/kb/bulletins/", {"kind": "bogus"}).content.decode()  # unknown: all
    note = Bulletin.objects.get(title="发票系统故障")

    client.force_login(users["rep_a2"])
    page = client.get(f"/kb/bulletins/{note.pk}/").content.decode()
    assert 'id="bulletin-receipts"' not in page  # a reader does not see who else read it

    for i in range(5):
        services.mark_read(create_user(None, username=f"agent{i}", password="correct-horse-9", role="sales_rep",
                                       team=teams["a"]), note)
    client.force_login(users["rep_a"])
    with django_assert_max_num_queries(20) as few:
        page = client.get(f"/kb/bulletins/{note.pk}/").content.decode()
    assert "Read by 7 of 10" in page  # rep_a, rep_a2, five agents; manager_a, viewer, admin have not
    readers = page.split('id="readers"')[1].split("</ul>")[0]
    not_readers = page.split('id="not-readers"')[1].split("</ul>")[0]
    assert "rep_a2" in readers and "agent4" in readers and "rep_b" not in page
    assert "manager_a" in not_readers and "viewer" in not_readers
    for i in range(5, 25):
        services.mark_read(create_user(None, username=f"agent{i}", password="correct-horse-9", role="sales_rep",
                                       team=teams["a"]), note)
    with django_assert_max_num_queries(len(few)):
        page = client.get(f"/kb/bulletins/{note.pk}/").content.decode()
    assert "Read by 27 of 30" in page

    client.force_login(users["rep_b"])
    assert client.get(f"/kb/bulletins/{note.pk}/").status_code == 404  # outside the audience


def test_the_board_takes_the_same_queries_for_more_bulletins_and_readers(client, users, teams,
                                                                        django_assert_max_num_queries):
    from guanxi.core.services import create_user

    kinds = ["general", "product", "known_issue", "competitor"]
    for i in range(2):
        services.post_bulletin(users["rep_a"], {"title": f"公告 {i}", "kind": kinds[i]})
    client.force_login(users["rep_a2"])
    with django_assert_max_num_queries(30) as few:
        assert client.get("/kb/bulletins/").status_code == 200
    readers = [create_user(None, username=f"agent{i}", password="correct-horse-9", role="sales_rep",
                           team=teams["a"]) for i in range(10)]
    for i in range(2, 12):
        bulletin = services.post_bulletin(users["rep_a"], {"title": f"公告 {i}", "kind": kinds[i % 4],
                                                           "pinned": i % 3 == 0})
        services.comment_bulletin(users["rep_a"], bulletin, "补充")
        for reader in readers:
            services.mark_read(reader, bulletin)
    with django_assert_max_num_queries(len(few)):
        html = client.get("/kb/bulletins/").content.decode()
    assert html.count('class="badge bulletin-kind') == 12
