"""The value × risk grid: counts and lifetime value over the accounts the user may see, the drill-down
behind each cell (keyset paged, nobody else's accounts), playbooks edited by an administrator and run
idempotently, with bounded queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.activities.models import Task, TaskStatus
from guanxi.analytics.models import Band, CustomerScore, Playbook, PlaybookActionKind
from guanxi.analytics.playbook_services import grid, playbooks, run_playbook
from guanxi.analytics.score_services import score_customers

from .app_history import make_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(users):
    history = make_history([users["rep_a"], users["rep_a2"], users["rep_b"]], seed=5)
    run = score_customers(history["as_of"])
    assert run.status == "done", run.message
    return history


def _cells(user) -> dict[str, tuple[int, float]]:
    return {c.key: (c.count, c.clv) for c in grid(user)}


def _expected(owner_ids) -> dict[str, tuple[int, float]]:
    out = {f"{v}-{r}": (0, 0.0) for v in Band.values for r in Band.values}
    for s in CustomerScore.objects.filter(account__owner_id__in=owner_ids):
        n, total = out[f"{s.value_band}-{s.risk_band}"]
        out[f"{s.value_band}-{s.risk_band}"] = (n + 1, total + (s.clv or 0))
    return out


def _approx(cells):
    return {k: (n, pytest.approx(v, rel=1e-9, abs=1e-6)) for k, (n, v) in cells.items()}


def test_a_rep_counts_only_their_accounts_a_manager_their_team_an_admin_all(scored, users):
    rep, manager, admin = users["rep_a"], users["manager_a"], users["admin"]
    assert _cells(rep) == _approx(_expected([rep.pk]))
    assert _cells(manager) == _approx(_expected([rep.pk, users["rep_a2"].pk]))
    assert sum(n for n, _ in _cells(admin).values()) == CustomerScore.objects.count() == 120
    assert sum(n for n, _ in _cells(users["rep_b"]).values()) == 40


def test_the_grid_page_shows_the_cells_and_costs_a_fixed_number_of_queries(scored, users, client,
                                                                          django_assert_max_num_queries):
    client.force_login(users["rep_a"])
    client.get("/analytics/")  # the first visit creates the four default playbooks
    with django_assert_max_num_queries(10):
        page = client.get("/analytics/").content.decode()
    expected = _expected([users["rep_a"].pk])
    for key, (n, _clv) in expected.items():
        assert f'id="cell-{key}" data-count="{n}"' in page
    assert 'id="nav-analytics"' in page and 'id="run-high-high"' in page
    assert 'id="score-now"' not in page and 'id="edit-high-high"' not in page  # a rep neither scores nor edits


def test_the_drill_down_lists_only_visible_accounts_and_pages_by_keyset(scored, users, client):
    rep = users["rep_a"]
    client.force_login(rep)
    mine = {f"{v}-{r}": set(CustomerScore.objects.filter(account__owner=rep, value_band=v, risk_band=r)
                            .values_list("account_id", flat=True)) for v in Band.values for r in Band.values}
    key = max(mine, key=lambda k: len(mine[k]))
    assert len(mine[key]) > 3
    seen, url, pages = [], f"/analytics/cells/{key}/?limit=3", 0
    client.get(url)  # warm: the session and the content types are read once
    for pages in range(1, 30):  # noqa: B007
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        queries = len(ctx.captured_queries)
        assert queries <= 8  # session, user, shares, the page, the navbar's: never one per row
        page = response.content.decode()
        seen += [int(x.split('"')[0]) for x in page.split('data-account="')[1:]]
        if 'id="next-page"' not in page:
            break
        url = f"/analytics/cells/{key}/" + page.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    assert set(seen) == mine[key] and len(seen) == len(set(seen)) and pages == -(-len(seen) // 3)
    theirs = CustomerScore.objects.exclude(account__owner=rep).first()
    assert f'data-account="{theirs.account_id}"' not in client.get(
        f"/analytics/cells/{theirs.value_band}-{theirs.risk_band}/").content.decode()
    assert client.get(f"/accounts/{theirs.account_id}/").status_code == 404
    assert client.get("/analytics/cells/very-high/").status_code == 404
    assert client.get(f"/analytics/cells/{key}/?cursor=garbage").status_code == 200  # error shown, first page


def test_a_playbook_run_creates_tasks_once_for_the_cells_visible_accounts(scored, users, client):
    rep = users["rep_a"]
    books = playbooks()
    cell = next((v, r) for v, r in books if CustomerScore.objects.filter(account__owner=rep, value_band=v,
                                                                          risk_band=r).exists())
    book = books[cell]
    Playbook.objects.filter(pk=book.pk).update(action=PlaybookActionKind.TASK, title="亲自致电")
    mine = set(CustomerScore.objects.filter(account__owner=rep, value_band=cell[0], risk_band=cell[1])
               .values_list("account_id", flat=True))
    client.force_login(rep)
    page = client.post(f"/analytics/playbooks/{book.pk}/run/", HTTP_HX_REQUEST="true").content.decode()
    assert f'data-created="{len(mine)}"' in page
    tasks = Task.objects.filter(title="亲自致电")
    assert set(tasks.values_list("account_id", flat=True)) == mine
    assert set(tasks.values_list("owner_id", flat=True)) == {rep.pk}
    again = client.post(f"/analytics/playbooks/{book.pk}/run/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-created="0"' in again and f'data-skipped="{len(mine)}"' in again
    assert tasks.count() == len(mine)
    done = tasks.first()
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.DONE)  # once done, the next run may ask again
    result = run_playbook(rep, Playbook.objects.get(pk=book.pk))
    assert [t.account_id for t in result.tasks] == [done.account_id]


def test_a_tag_playbook_tags_the_cells_accounts_once(scored, users):
    admin = users["admin"]
    book = playbooks()[(Band.LOW, Band.LOW)]
    assert book.action == PlaybookActionKind.TAG and book.tag.name == book.title  # ready to run as shipped
    from guanxi.analytics.playbook_services import update_playbook
    book = update_playbook(admin, book, {"action": "tag", "tag": "低成本优惠"})
    result = run_playbook(admin, book)
    cell = set(CustomerScore.objects.filter(value_band="low", risk_band="low").values_list("account_id", flat=True))
    assert {a.pk for a in result.tagged} == cell
    assert run_playbook(admin, book).tagged == []


def test_only_an_administrator_edits_playbooks_and_bad_input_names_the_field(scored, users, client):
    book = playbooks()[(Band.HIGH, Band.HIGH)]
    client.force_login(users["manager_a"])
    assert client.post(f"/analytics/playbooks/{book.pk}/edit/", {"title": "x"}).status_code == 403
    client.force_login(users["admin"])
    client.post(f"/analytics/playbooks/{book.pk}/edit/", {"title": "", "action": "tag", "due_hours": "-3",
                                                           "tag": ""}, follow=True)
    book.refresh_from_db()
    assert book.title != "" and book.action == PlaybookActionKind.TASK  # nothing half saved
    page = client.post(f"/analytics/playbooks/{book.pk}/edit/", {"title": "24 小时内亲自拜访", "action": "task",
                                                                  "due_hours": "24", "description": ""},
                       follow=True).content.decode()
    book.refresh_from_db()
    assert (book.title, book.due_hours) == ("24 小时内亲自拜访", 24) and "24 小时内亲自拜访" in page
    client.force_login(users["viewer"])
    assert client.post(f"/analytics/playbooks/{book.pk}/run/").status_code == 403
