"""The search box counts up to a cap, so a term matching a large part of the database stays fast."""

import pytest

from guanxi.core.search import COUNT_CAP, capped_count, matching
from guanxi.customers.models import Contact
from guanxi.quality.normalize import search_text


def test_counts_stop_just_past_the_cap_and_the_page_says_so(users, client):
    rep = users["rep_a"]
    Contact.objects.bulk_create([
        Contact(name=f"王芳{i}", owner=rep, team=rep.team, search_text=search_text(names=[f"王芳{i}"]))
        for i in range(COUNT_CAP + 5)])
    qs = matching(Contact.objects.visible_to(rep), "wangfang")
    assert capped_count(qs) == COUNT_CAP + 1
    assert COUNT_CAP == 100  # the names below: 王芳0 … 王芳104
    assert capped_count(matching(Contact.objects.visible_to(rep), "wangfang10")) == 6  # 10, 100–104
    client.force_login(rep)
    page = client.get("/search/", {"q": "wangfang"}).content.decode()
    assert f"{COUNT_CAP}+" in page
    assert client.get("/api/v1/search", {"q": "wangfang"}).json()["counts"]["contacts"] == COUNT_CAP + 1


def test_common_terms_find_the_same_rows_as_rare_ones(users, monkeypatch):
    """Above SMALL_MATCH (PROBE_MATCH) hits the plan changes (index walk, FTS candidates, a pre-pass for a short word):
    the rows found, and what the user may see of them, must not change."""
    from guanxi.core import search

    rep, other = users["rep_a"], users["rep_b"]
    names = ["杨丽", "杨立", "杨明", "Li Yang", "王芳"]
    Contact.objects.bulk_create([
        Contact(name=name, owner=owner, team=owner.team, email=f"{i}@gmail.com",
                search_text=search_text(names=[name], emails=[f"{i}@gmail.com"]))
        for i, (name, owner) in enumerate([(n, o) for n in names for o in (rep, other)])])

    def found(query: str) -> list[str]:
        return sorted(matching(Contact.objects.visible_to(rep), query).values_list("name", flat=True))

    queries = ["yang li", "gmail.com", "yang", "杨丽"]
    few = {q: found(q) for q in queries}
    # 1: every plan for broad terms; 7: "yang" has 8 matches but "yang li" 6, so the pre-pass's id list is used
    for small in (1, 7):
        monkeypatch.setattr(search, "SMALL_MATCH", small)
        monkeypatch.setattr(search, "PROBE_MATCH", small)  # PostgreSQL, one word: its ids, or the planner's plan
        assert {q: found(q) for q in queries} == few, small
    assert few["yang li"] == ["Li Yang", "杨丽", "杨立"]
    assert few["gmail.com"] == sorted(names)



@pytest.mark.django_db
def test_every_search_index_is_in_place_after_all_migrations():
    """A migration that makes SQLite rebuild a table drops that table's triggers; each such migration must put
    the search index's triggers back, or new and edited records silently stop being found."""
    from django.db import connection

    tables = ["customers_contact", "customers_account", "service_ticket"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            triggers = {r[0] for r in cursor.fetchall()}
            for table in tables:
                assert {f"{table}_fts_ai", f"{table}_fts_ad", f"{table}_fts_au"} <= triggers, table
        else:
            cursor.execute("SELECT indexname FROM pg_indexes")
            indexes = {r[0] for r in cursor.fetchall()}
            for table in tables:
                assert f"{table}_search_trgm" in indexes, table
