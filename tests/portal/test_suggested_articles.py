"""The staff ticket page's suggested articles: the knowledge base's best matches for the ticket's subject and
description, public ones quoted with their portal link, internal ones with their text; none for a rep who may
not edit; and the ticket list's search by number and subject, in a fixed number of queries."""

from django.urls import reverse

from guanxi.knowledge import services as kb_services
from guanxi.knowledge.models import Article
from guanxi.service import customer_services


def _articles(users):
    public = kb_services.create_article(users["admin"], {"title": "打印机无法连接怎么办", "body": "先重启打印机。",
                                                         "visibility": "public", "status": "published"})
    internal = kb_services.create_article(users["admin"], {"title": "打印机驱动内部下载", "body": "内网地址 fs01。",
                                                           "visibility": "internal", "status": "published"})
    draft = kb_services.create_article(users["admin"], {"title": "打印机草稿", "body": "未完成",
                                                        "visibility": "public", "status": "draft"})
    kb_services.create_article(users["admin"], {"title": "发票抬头", "body": "无关", "visibility": "public",
                                                "status": "published"})
    return public, internal, draft


def test_the_ticket_page_suggests_matching_articles_ready_for_the_reply(client, users, staff_ticket, settings,
                                                                       english):
    public, internal, draft = _articles(users)
    client.force_login(users["admin"])
    page = client.get(reverse("service:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert 'id="suggested-articles"' in page
    assert public.title in page and internal.title in page and draft.title not in page and "发票抬头" not in page
    link = settings.SITE_URL + reverse("portal:article", args=[public.pk])
    assert f'data-insert-text="{public.title}: {link}"' in page  # the customer can open a public article
    assert "内网地址 fs01" in page  # an internal one goes in as its text
    assert Article.objects.get(pk=public.pk).suggested_count == 1

    client.force_login(users["viewer"])  # read-only, sees the ticket (their team's account) but writes no reply
    page = client.get(reverse("service:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert staff_ticket.subject in page and 'id="suggested-articles"' not in page


def test_suggest_gives_visitors_public_articles_only(users, staff_ticket):
    public, internal, _draft = _articles(users)
    assert [s.article.pk for s in kb_services.suggest("打印机", None)] == [public.pk]
    staff = kb_services.suggest("打印机 连接", users["admin"], limit=3)
    assert {s.article.pk for s in staff} == {public.pk, internal.pk} and staff[0].article.pk == public.pk
    assert kb_services.suggest("", users["admin"]) == []


def test_the_ticket_list_searches_number_and_subject(client, users, orgs, staff_ticket,
                                                     django_assert_max_num_queries):
    for i in range(5):
        customer_services.submit_ticket(orgs["contact_a"], {"subject": f"发票问题 {i}"})
    other = customer_services.submit_ticket(orgs["contact_b"], {"subject": "发票问题 广州"})
    client.force_login(users["rep_a"])
    # 13 on SQLite: the rep's account ids are read once (the ticket query then holds them, and so does the
    # search's branch probe), the page's ids before its rows; PostgreSQL probes two branches instead of one
    # pre-pass (+1). Constant in the number of tickets.
    with django_assert_max_num_queries(14):
        page = client.get(reverse("service:ticket_list"), {"q": "发票问题"}).content.decode()
    assert page.count("发票问题") >= 5 and "广州" not in page and staff_ticket.subject not in page
    page = client.get(reverse("service:ticket_list"), {"q": staff_ticket.number.lower()}).content.decode()
    assert staff_ticket.subject in page and "发票问题" not in page
    client.force_login(users["admin"])
    api = client.get("/api/v1/tickets", {"q": "广州 发票"}).json()
    assert [t["id"] for t in api["items"]] == [other.pk]
