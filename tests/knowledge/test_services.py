import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanxi.core.models import AuditEntry
from guanxi.core.records import EditConflict
from guanxi.knowledge import queries, services
from guanxi.knowledge.models import Article, ArticleFeedback, Bulletin, SearchSource
from guanxi.knowledge.text import keywords, normalize_question


def _titles(articles):
    return [a.title for a in articles]


def test_keywords_segment_chinese_and_drop_stop_words():
    assert keywords("怎么重置我的密码？") == ["重置", "密码"]
    assert keywords("How to reset a password") == ["reset", "password"]
    assert normalize_question("如何重置密码") == normalize_question("密码 重置") == normalize_question("密码重置？")


def test_search_finds_two_character_chinese_words_and_english_words(kb):
    visible = Article.objects.visible_to(None)  # a portal visitor
    assert set(_titles(queries.search(visible, "发票"))) == {"发票开具流程"}
    assert set(_titles(queries.search(visible, "Password"))) == {"How to reset a password"}
    assert set(_titles(queries.search(visible, "怎么重置密码"))) == {"如何重置密码"}


def test_title_matches_rank_above_body_matches(kb, users):
    found = list(queries.search(Article.objects.visible_to(users["rep_a"]), "密码").order_by("-score", "-pk"))
    assert _titles(found) == ["如何重置密码", "VPN 连接失败的排查"]  # the VPN article has 密码 in its body only


def test_public_only_and_published_only(kb, users):
    assert "VPN 连接失败的排查" not in _titles(queries.search(Article.objects.visible_to(None), "账号"))
    rep = users["rep_a"]
    assert "VPN 连接失败的排查" in _titles(queries.search(Article.objects.visible_to(rep), "账号"))
    assert not Article.objects.visible_to(None).filter(pk=kb["draft"].pk).exists()
    assert not Article.objects.visible_to(users["viewer"]).filter(pk=kb["draft"].pk).exists()
    assert Article.objects.visible_to(rep).filter(pk=kb["draft"].pk).exists()  # an editor sees drafts


def test_suggestions_rank_by_matched_words_and_respect_public_only(kb):
    text = "您好，我的账号密码忘了，VPN 也连不上"
    found = services.suggest_articles(text, public_only=False, limit=5)
    assert _titles(found)[:2] == ["VPN 连接失败的排查", "如何重置密码"]
    public = services.suggest_articles(text, public_only=True, limit=5)
    assert "VPN 连接失败的排查" not in _titles(public) and "如何重置密码" in _titles(public)
    assert services.suggest_articles("退款", public_only=False) == []  # a draft is never suggested
    kb["reset_zh"].refresh_from_db()
    assert kb["reset_zh"].suggested_count == 2


def test_suggestions_score_as_the_database_does_and_a_batch_reads_each_word_once(
        kb, django_assert_num_queries, django_assert_max_num_queries):
    for text in ("您好，我的账号密码忘了，VPN 也连不上", "怎么重置密码", "发票 password reset"):
        for public_only in (False, True):
            terms = keywords(text)
            expected = [(a.pk, a.score) for a in queries._scored_in_sql(terms, public_only, 5)]
            assert [(a.pk, a.score) for a in queries.suggestions(text, public_only=public_only)] == expected
    with services.suggestion_batch() as batch:
        first = services.suggest_articles("账号密码忘了", public_only=False, batch=batch)
        with django_assert_num_queries(0):  # the same words again: read in this batch already
            again = services.suggest_articles("密码忘了，账号", public_only=False, batch=batch)
        with django_assert_max_num_queries(4):  # a new word: its matches, and the articles not read yet
            services.suggest_articles("账号密码 VPN", public_only=False, batch=batch)
    assert [a.pk for a in again] == [a.pk for a in first]
    kb["reset_zh"].refresh_from_db()
    assert kb["reset_zh"].suggested_count == 3  # counted per suggestion, written when the batch ended


def test_editing_a_published_article_keeps_versions_and_restores(kb, users):
    admin, article = users["admin"], kb["reset_zh"]
    article = services.update_article(admin, article, {"title": "重置登录密码"}, article.version)
    article = services.update_article(admin, article, {"body": "联系管理员。"}, article.version)
    assert [v.number for v in article.versions.all()] == [2, 1]
    assert article.versions.get(number=1).title == "如何重置密码"
    with pytest.raises(EditConflict):
        services.update_article(admin, article, {"title": "x"}, 1)
    restored = services.restore_version(admin, article, 1, article.version)
    assert (restored.title, restored.body) == ("如何重置密码", "打开**设置**，点击“忘记密码”，按短信验证码重置。")
    assert restored.versions.count() == 3
    assert set(_titles(queries.search(Article.objects.all(), "如何重置"))) == {"如何重置密码"}  # reindexed
    assert AuditEntry.objects.filter(object_id=article.pk, action="update").count() == 3
    draft = services.update_article(admin, kb["draft"], {"body": "改"}, kb["draft"].version)
    assert draft.versions.count() == 0  # drafts keep no versions


def test_bad_article_input_names_fields_and_read_only_users_may_not_write(kb, users):
    with pytest.raises(ValidationError) as exc:
        services.create_article(users["admin"], {"title": "", "visibility": "secret", "category_id": 999})
    assert {"title", "visibility", "category_id"} <= set(exc.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.create_article(users["viewer"], {"title": "x"})


def test_one_vote_per_voter(kb, users):
    article = kb["reset_zh"]
    services.rate_article(article, helpful=True, user=users["rep_a"])
    services.rate_article(article, helpful=False, user=users["rep_a"])  # changes the vote
    services.rate_article(article, helpful=True, visitor_key="v-1")
    services.rate_article(article, helpful=True, visitor_key="v-1")
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.filter(article=article).count() == 2
    with pytest.raises(ValidationError) as exc:
        services.rate_article(article, helpful=True)
    assert "visitor_key" in exc.value.message_dict


def test_top_questions_and_deflection(kb):
    for q in ("如何重置密码？", "密码 重置", "发票"):
        services.record_search(q, results_count=1, source=SearchSource.PORTAL, visitor_key="v")
    logs = [services.record_search("重置密码", results_count=1, source=SearchSource.PORTAL) for _ in range(3)]
    services.mark_search(logs[0], clicked_article=kb["reset_zh"], ended_without_ticket=True)
    services.mark_search(logs[1], ended_without_ticket=False)
    since, until = queries.period(7)
    top = queries.top_questions(since, until)
    assert (top[0]["normalized"], top[0]["count"], top[0]["clicked"]) == ("密码 重置", 5, 1)
    d = queries.deflection(since, until)
    assert (d.searches, d.deflected, d.ticketed, d.unknown) == (6, 1, 1, 4)
    assert d.rate == pytest.approx(1 / 6)


def test_bulletin_audience_pinning_and_read_receipts(users, teams):
    manager = users["manager_a"]
    team_note = services.post_bulletin(manager, {"title": "华北本周重点", "team_id": teams["a"].pk, "pinned": True})
    everyone = services.post_bulletin(users["rep_b"], {"title": "新版报价单模板", "body": "见附件"})
    assert set(queries.bulletins(users["rep_a"])) == {team_note, everyone}
    assert list(queries.bulletins(users["rep_b"])) == [everyone]
    assert list(queries.bulletins(users["rep_a"]))[0] == team_note  # pinned first
    with pytest.raises(ValidationError) as exc:
        services.post_bulletin(users["rep_b"], {"title": "x", "team_id": teams["a"].pk})
    assert "team_id" in exc.value.message_dict
    assert queries.unread_count(users["rep_a"]) == 2
    services.mark_read(users["rep_a"], team_note)
    services.mark_read(users["rep_a"], team_note)
    rows = {b.pk: b.is_read for b in queries.bulletins(users["rep_a"])}
    assert rows == {team_note.pk: True, everyone.pk: False}
    with pytest.raises(PermissionDenied):
        services.expire_bulletin(users["rep_a"], everyone)
    services.expire_bulletin(users["rep_b"], everyone)
    assert list(queries.bulletins(users["rep_a"])) == [team_note]
    services.comment_bulletin(users["rep_a"], team_note, "收到")
    assert team_note.comments.count() == 1


def test_bulletin_expiry_must_be_in_the_future(users):
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationError) as exc:
        services.post_bulletin(users["rep_a"], {"title": "x", "expires_at": past})
    assert "expires_at" in exc.value.message_dict
    assert not Bulletin.objects.exists()


def test_bulletin_kinds_are_chosen_validated_and_filtered(users):
    issue = services.post_bulletin(users["rep_a"], {"title": "打印驱动与新版系统不兼容", "kind": "known_issue"})
    plain = services.post_bulletin(users["rep_a"], {"title": "周五团建", "kind": ""})
    assert (issue.kind, plain.kind) == ("known_issue", "general")
    with pytest.raises(ValidationError) as exc:
        services.post_bulletin(users["rep_a"], {"title": "x", "kind": "rumour"})
    assert "kind" in exc.value.message_dict
    assert list(queries.bulletins(users["rep_a2"], kind="known_issue")) == [issue]
    assert set(queries.bulletins(users["rep_a2"])) == {issue, plain}


def _names(people):
    return sorted(u.username for u in people)


def test_read_receipts_for_the_author_managers_and_administrators_only_within_the_audience(users, teams):
    note = services.post_bulletin(users["rep_a"], {"title": "华北价格调整", "team_id": teams["a"].pk})
    services.mark_read(users["rep_a2"], note)
    mine = queries.receipts(users["rep_a"], note)  # the author: the whole audience (admins see every bulletin)
    assert [u.username for u in mine.read] == ["rep_a", "rep_a2"]  # earliest first
    assert mine.read[0].read_at <= mine.read[1].read_at
    assert _names(mine.unread) == ["admin", "manager_a", "viewer"]  # rep_b (another team) never appears
    assert (len(mine.read), mine.total) == (2, 5)
    assert queries.receipts(users["rep_a2"], note) is None  # a reader is not told who else read it
    assert queries.receipts(users["viewer"], note) is None
    managed = queries.receipts(users["manager_a"], note)  # a manager: the members of their own teams
    assert _names(managed.read + managed.unread) == ["manager_a", "rep_a", "rep_a2", "viewer"]
    assert _names(queries.receipts(users["admin"], note).unread) == ["admin", "manager_a", "viewer"]

    users["rep_a2"].team = teams["b"]  # moved out of the audience: no longer counted, read or not
    users["rep_a2"].save()
    mine = queries.receipts(users["rep_a"], note)
    assert ([u.username for u in mine.read], mine.total) == (["rep_a"], 4)

    everyone = services.post_bulletin(users["rep_b"], {"title": "竞品降价"})
    services.mark_read(users["rep_a"], everyone)
    theirs = queries.receipts(users["rep_b"], everyone)
    assert _names(theirs.read) == ["rep_a", "rep_b"] and len(theirs.unread) == 4


def test_read_receipts_take_the_same_queries_for_more_readers(users, teams, django_assert_max_num_queries):
    from guanxi.core.services import create_user

    note = services.post_bulletin(users["manager_a"], {"title": "新品发布", "team_id": teams["a"].pk})
    for name in ("rep_a", "rep_a2"):
        services.mark_read(users[name], note)
    for viewer in ("manager_a", "admin"):
        with django_assert_max_num_queries(2):
            assert queries.receipts(users[viewer], note).total == 5
    for i in range(30):
        reader = create_user(None, username=f"agent{i}", password="correct-horse-9", role="sales_rep",
                             team=teams["a"])
        services.mark_read(reader, note)
    for viewer in ("manager_a", "admin"):
        with django_assert_max_num_queries(2):
            assert len(queries.receipts(users[viewer], note).read) == 33
