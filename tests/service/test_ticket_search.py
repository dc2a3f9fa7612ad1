"""Ticket search (`q`: the number or words of the subject). core.search picks a plan by how common the words
are — the index's id list, a sales rep's own tickets first, the walk of the date order — and whichever runs,
it finds exactly the tickets holding every word that the user may see. Two-character words (most Chinese
words) use the search index too; the list keeps a constant number of queries."""

import pytest
from django.http import QueryDict

from guanxi.core import search
from guanxi.core.paging import paginate
from guanxi.core.people_services import share_record
from guanxi.core.search import matching, terms_of
from guanxi.core.services import issue_token
from guanxi.customers import services as customer_services
from guanxi.service.filters import TICKET_SORTS, filter_tickets
from guanxi.service.models import Ticket
from guanxi.service.ticket_models import ticket_search_text
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

# "发票" alone, first, last, in the middle, twice, split by a space (no match), and not at all.
SUBJECTS = ["发票", "发票 打印机", "打印机发票", "开发票了", "发票发票", "发 票", "打印机 卡纸", "vpn 无法连接",
            "VPN access 发票", "登录失败 发票重开", "账单", "b"]
QUERIES = ["发票", "票", "发", "打印机 发票", "打印机", "vpn", "vp", "vpn 发票", "卡纸", "纸", "发票 重开", "账单 发票",
           "不存在", "xq", "b", "t00", "T000003"]


def _matches(text: str, query: str) -> bool:
    return all(term in text for term in terms_of(query))


def _found(qs, query: str, **kwargs) -> set[int]:
    return set(matching(qs, query, **kwargs).values_list("pk", flat=True))


@pytest.fixture
def tickets(db):
    made = [Ticket.objects.create(subject=subject, number=f"T{i:06d}") for i, subject in enumerate(SUBJECTS)]
    return {t.pk: ticket_search_text(t.number, t.subject) for t in made}


@pytest.mark.parametrize("plan", ["index", "pairs tested row by row", "walk"])
def test_every_word_as_a_substring_whichever_plan_runs(tickets, monkeypatch, plan):
    if plan == "pairs tested row by row":
        monkeypatch.setattr(search, "PAIR_FOLLOWERS_MAX", 0)
    elif plan == "walk":
        monkeypatch.setattr(search, "SMALL_MATCH", 0)
    for query in QUERIES:
        expected = {pk for pk, text in tickets.items() if _matches(text, query)}
        assert _found(Ticket.objects.all(), query) == expected, query
        assert _found(Ticket.objects.all(), query, visible_first=True) == expected, query
    assert len({pk for pk, text in tickets.items() if _matches(text, "发票")}) == 7


def test_the_index_follows_changes_to_the_subject(tickets):
    ticket = Ticket.objects.get(subject="账单")
    ticket.subject = "退款单"
    ticket.save()
    assert ticket.pk in _found(Ticket.objects.all(), "款单") and ticket.pk not in _found(Ticket.objects.all(), "账单")
    Ticket.objects.filter(subject="发票").delete()
    assert _found(Ticket.objects.all(), "发票") == {pk for pk, text in tickets.items()
                                                   if "发票" in text and text != "t000000 发票"}


@pytest.fixture
def two_reps(users):
    """rep_a's and rep_b's customers with tickets of the same words; rep_a also requested one of rep_b's
    customers' tickets and is assigned one without a customer."""
    mine = customer_services.create_account(users["rep_a"], {"name": "甲公司", "classification": "B"})
    theirs = customer_services.create_account(users["rep_b"], {"name": "乙公司", "classification": "B"})
    rows = [(mine, "打印机 故障"), (mine, "打印机 发票"), (mine, "发票 重开"), (theirs, "打印机 故障"),
            (theirs, "打印机 发票"), (theirs, "发票 重开"), (theirs, "打印机 卡纸"), (theirs, "账单 发票")]
    made = [Ticket.objects.create(subject=s, account=a, number=f"T{i:06d}") for i, (a, s) in enumerate(rows)]
    made.append(Ticket.objects.create(subject="打印机 卡纸", account=theirs, number="T000100",
                                      requester=users["rep_a"]))
    made.append(Ticket.objects.create(subject="账单 发票", owner=users["rep_a"], number="T000101"))
    return made


@pytest.mark.parametrize("small_match", [5000, 3, 1, 0])
def test_a_rep_finds_only_their_customers_tickets_whichever_plan_runs(users, two_reps, monkeypatch, small_match):
    """SMALL_MATCH (and on PostgreSQL PROBE_MATCH, the probe of the rep's branches) decides between the index's
    ids, the rep's own matches and the walk: all give the same."""
    monkeypatch.setattr(search, "SMALL_MATCH", small_match)
    monkeypatch.setattr(search, "PROBE_MATCH", min(small_match, 1000))
    rep = users["rep_a"]
    visible = set(Ticket.objects.visible_to(rep).values_list("pk", flat=True))
    assert len(visible) == 5 and Ticket.objects.few_visible(rep)
    for query in ["打印机", "发票", "打印机 发票", "卡纸", "账单", "故障 发票", "T000100", "无"]:
        expected = {t.pk for t in two_reps if t.pk in visible and _matches(t.search_text, query)}
        found = set(filter_tickets(QueryDict(f"q={query}"), rep).values_list("pk", flat=True))
        assert found == expected, query
        assert _found(Ticket.objects.visible_to(rep), query) == expected, query


def test_the_visible_branches_hold_exactly_the_visible_tickets(users, desk, two_reps):
    """core.search probes each branch alone and trusts their union: for every kind of user it must be the set
    visible_to gives, no ticket more (a leak) and none less (a lost match)."""
    assigned = Ticket.objects.create(subject="队列 工单", number="T000300", queue=desk["general"], owner=desk["wang"])
    shared = Ticket.objects.create(subject="共享 工单", number="T000301", owner=desk["li"])
    share_record(users["admin"], shared, user=users["rep_b"])
    for user in [*users.values(), *(u for u in desk.values() if hasattr(u, "role"))]:
        if user.is_administrator:
            continue
        visible = set(Ticket.objects.visible_to(user).values_list("pk", flat=True))
        union = set().union(*(b.values_list("pk", flat=True) for b in Ticket.objects.visible_branches(user)))
        assert union == visible, user.username
        together, branches = Ticket.objects.visible_with_branches(user)
        assert set(together.values_list("pk", flat=True)) == visible, user.username
        if branches is not None:  # the list and the probe read the rule once: the same tickets
            assert set().union(*(b.values_list("pk", flat=True) for b in branches)) == visible, user.username
    assert assigned.pk in set(Ticket.objects.visible_to(desk["wang"]).values_list("pk", flat=True))
    assert len(set(Ticket.objects.visible_to(users["rep_a"]).values_list("pk", flat=True))) == 5
    assert shared.pk in set(Ticket.objects.visible_to(users["rep_b"]).values_list("pk", flat=True))


def test_who_searches_their_own_tickets_first(users, desk):
    assert Ticket.objects.few_visible(users["rep_a"]) and Ticket.objects.few_visible(users["viewer"])
    assert not Ticket.objects.few_visible(users["admin"]) and not Ticket.objects.few_visible(desk["wang"])
    assert not Ticket.objects.few_visible(desk["lead"]) and not Ticket.objects.few_visible(None)


def test_a_search_page_costs_the_same_queries_with_more_tickets(users, two_reps, django_assert_max_num_queries):
    rep = ApiClient(issue_token(users["rep_a"]))
    account = two_reps[0].account
    # 10: session, user, token, the visibility rule's parts read once (shares, accounts) for the list and, on
    # PostgreSQL, the probe of the rep's two branches (SQLite one pre-pass), the page's ids and its rows.
    with django_assert_max_num_queries(10) as few:
        first = rep.get("tickets", {"q": "打印机", "limit": 1}).json()
    assert len(first["items"]) == 1 and first["next"]
    for i in range(10):
        Ticket.objects.create(subject=f"打印机 {i}", account=account, number=f"T{200 + i:06d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = rep.get("tickets", {"q": "打印机", "limit": 5}).json()
    seen, page = [t["id"] for t in first["items"]], first
    while page["next"]:
        page = rep.get("tickets", {"q": "打印机", "limit": 5, "cursor": page["next"]}).json()
        seen += [t["id"] for t in page["items"]]
    assert len(seen) == len(set(seen)) == 13  # 2 of the rep's customers', their requested one, 10 new


@pytest.mark.parametrize("sort", TICKET_SORTS)
def test_pages_by_ids_first_are_the_same_pages(two_reps, sort, django_assert_num_queries):
    qs = Ticket.objects.select_related("account", "owner").only("id", "subject", "updated_at", "account",
                                                                "owner", "account__name", "owner__username")
    plain, cursor, by_ids = [], None, []
    while True:
        page = paginate(qs, sort=sort, allowed=TICKET_SORTS, cursor=cursor, limit=3)
        plain += [t.pk for t in page.items]
        if not (cursor := page.next_cursor):
            break
    while True:
        with django_assert_num_queries(2):  # the ids, then the rows with their account and owner
            page = paginate(qs, sort=sort, allowed=TICKET_SORTS, cursor=cursor, limit=3, ids_first=True)
            names = [(t.account.name if t.account else "", t.owner.username if t.owner else "") for t in page.items]
        assert len(names) == len(page.items)
        by_ids += [t.pk for t in page.items]
        if not (cursor := page.next_cursor):
            break
    assert by_ids == plain and len(plain) == len(two_reps)
