"""The knowledge base in the portal: public published articles only (an internal article or a draft is a 404
by id), search logged as a portal search, opening a result and 'was this helpful? yes' ending it deflected."""

from django.urls import reverse

from guanxi.knowledge.models import ArticleFeedback, SearchLog, SearchSource
from tests.knowledge.conftest import kb  # noqa: F401


def test_search_finds_public_articles_only_and_logs_a_portal_search(client, kb):  # noqa: F811
    page = client.get(reverse("portal:kb"), {"q": "密码"}).content.decode()
    assert kb["reset_zh"].title in page
    assert kb["vpn"].title not in page  # internal, though it mentions 密码
    log = SearchLog.objects.get()
    assert log.source == SearchSource.PORTAL and log.results_count >= 1


def test_internal_articles_and_drafts_are_404s(client, kb):  # noqa: F811
    assert client.get(reverse("portal:article", args=[kb["reset_en"].pk])).status_code == 200
    for key in ("vpn", "draft"):
        assert client.get(reverse("portal:article", args=[kb[key].pk])).status_code == 404
        assert client.post(reverse("portal:feedback", args=[kb[key].pk]), {"helpful": "yes"}).status_code == 404


def test_helpful_after_a_search_counts_the_vote_once_and_deflects_the_search(client, kb):  # noqa: F811
    client.get(reverse("portal:kb"), {"q": "发票"})
    log = SearchLog.objects.get()
    article = kb["invoice"]
    client.get(reverse("portal:article", args=[article.pk]), {"search": log.pk})
    response = client.post(reverse("portal:feedback", args=[article.pk]), {"helpful": "yes", "search": log.pk})
    assert response.status_code == 302
    client.post(reverse("portal:feedback", args=[article.pk]), {"helpful": "yes", "search": log.pk})
    log.refresh_from_db()
    article.refresh_from_db()
    assert log.clicked_article == article and log.ended_without_ticket is True
    assert article.helpful_count == 1 and ArticleFeedback.objects.count() == 1
    assert 'id="feedback-thanks"' in client.get(response["Location"]).content.decode()


def test_someone_elses_search_cannot_be_marked(client, kb):  # noqa: F811
    other = SearchLog.objects.create(query="x", normalized="x", source=SearchSource.PORTAL, visitor_key="anon-zzz")
    client.post(reverse("portal:feedback", args=[kb["invoice"].pk]), {"helpful": "yes", "search": other.pk})
    other.refresh_from_db()
    assert other.ended_without_ticket is None
