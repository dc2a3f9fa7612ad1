"""The search box counts up to a cap, so a term matching a large part of the database stays fast."""

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
    assert capped_count(matching(Contact.objects.visible_to(rep), "wangfang100")) == 6  # 100, 1000–1004
    client.force_login(rep)
    page = client.get("/search/", {"q": "wangfang"}).content.decode()
    assert f"{COUNT_CAP}+" in page
    assert client.get("/api/v1/search", {"q": "wangfang"}).json()["counts"]["contacts"] == COUNT_CAP + 1
