"""The web UI through Django's test client: pages, permissions, forms, conflicts, bulk actions, saved views,
language, and the number of queries a list page runs."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from guanxi.core.models import CustomField, LoginFailure, SavedView, User
from guanxi.core.records import audit_trail
from guanxi.customers import services
from guanxi.customers.models import Account, Contact

pytestmark = pytest.mark.django_db


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


# ---------------------------------------------------------------- log in


def test_login_page_and_login(client, users):
    assert client.get(reverse("home")).status_code == 302
    response = client.get(reverse("login"))
    assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "rep_a", "password": "correct-horse-9"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_login_is_throttled_even_with_the_right_password(client, users):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = client.post(reverse("login"), {"username": "rep_a", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "rep_a", "password": "correct-horse-9"})
    assert response.status_code == 429
    assert 'id="login-blocked"' in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302
    # Another user from another address is not affected.
    other = client.post(reverse("login"), {"username": "rep_b", "password": "correct-horse-9"},
                        REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_successful_login_clears_failures(client, users):
    client.post(reverse("login"), {"username": "rep_a", "password": "wrong"})
    assert LoginFailure.objects.filter(username="rep_a").count() == 1
    client.post(reverse("login"), {"username": "rep_a", "password": "correct-horse-9"})
    assert LoginFailure.objects.filter(username="rep_a").count() == 0


def test_logout_is_a_post(login, users):
    client = login(users["rep_a"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


# ---------------------------------------------------------------- pages and permissions


def test_every_page_renders_for_a_rep(login, users, zhang):
    account, contact = zhang
    client = login(users["rep_a"])
    urls = [
        reverse("home"),
        reverse("search") + "?q=zw",
        reverse("search_suggest") + "?q=zw",
        reverse("customers:account_list"),
        reverse("customers:contact_list"),
        reverse("customers:account_create"),
        reverse("customers:contact_create") + f"?account={account.pk}",
        reverse("customers:account_detail", args=[account.pk]),
        reverse("customers:contact_detail", args=[contact.pk]),
        reverse("customers:account_edit", args=[account.pk]),
        reverse("customers:contact_edit", args=[contact.pk]),
        reverse("customers:account_delete", args=[account.pk]),
        reverse("customers:account_pick") + "?picker_q=星辰",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "张伟" in page and "北京星辰医疗科技有限公司" in page and "+86 138 0013 8000" in page


def test_another_teams_record_is_a_404(login, users, zhang):
    account, contact = zhang
    client = login(users["rep_b"])
    for name, obj in (("account", account), ("contact", contact)):
        for view in ("detail", "edit", "delete", "note"):
            url = reverse(f"customers:{name}_{view}", args=[obj.pk])
            if view != "note":
                assert client.get(url).status_code == 404, url
            assert client.post(url, {"body": "x", "name": "hijack"}).status_code == 404, url
    assert Account.objects.get(pk=account.pk).name == "北京星辰医疗科技有限公司"
    lists = client.get(reverse("customers:account_list")).content.decode()
    assert "北京星辰" not in lists
    # The manager of team A sees it.
    assert login(users["manager_a"]).get(reverse("customers:account_detail", args=[account.pk])).status_code == 200


def test_search_shows_only_what_the_user_may_see(login, users, zhang):
    client = login(users["rep_b"])
    page = client.get(reverse("search"), {"q": "张伟"}).content.decode()
    assert "张伟" not in page.split('id="search-contacts"')[1]
    assert 'badge text-bg-secondary">0<' in page
    client = login(users["rep_a"])
    page = client.get(reverse("search"), {"q": "+86 138 0013 8000"}).content.decode()
    assert "张伟" in page
    suggest = client.get(reverse("search_suggest"), {"q": "zw"}).content.decode()
    assert "张伟" in suggest and "<html" not in suggest


def test_viewer_sees_but_cannot_change(login, users, zhang):
    account, _contact = zhang
    services.create_account(users["manager_a"], {"name": "团队客户", "owner_id": users["rep_a2"].pk})
    client = login(users["viewer"])
    assert client.get(reverse("customers:account_list")).status_code == 200
    assert client.get(reverse("customers:account_create")).status_code == 403
    assert client.post(reverse("customers:account_create"), {"name": "X"}).status_code == 403
    assert not Account.objects.filter(name="X").exists()


def test_user_content_is_escaped(login, users):
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "<script>alert(1)</script>公司"})
    client = login(rep)
    for url in (reverse("customers:account_list"), reverse("customers:account_detail", args=[account.pk])):
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;公司" in page


# ---------------------------------------------------------------- forms


def test_create_account_and_contact_through_the_forms(login, users):
    client = login(users["rep_a"])
    response = client.post(reverse("customers:account_create"), {
        "name": "北京星辰医疗科技有限公司", "classification": "A", "lifecycle_stage": "growth",
        "industry": "healthcare", "owner_id": users["rep_a"].pk, "tags": "医院, 重点",
        "addresses.0.line": "北京市朝阳区建国路88号",
        "addresses.0.kind": "office", "addresses.0.country": "CN",
    })
    account = Account.objects.get()
    assert response.status_code == 302 and response.url == reverse("customers:account_detail", args=[account.pk])
    assert sorted(account.tags.values_list("name", flat=True)) == ["医院", "重点"]
    address = account.addresses.get()
    assert (address.province, address.district) == ("北京市", "朝阳区")
    response = client.post(reverse("customers:contact_create"), {
        "name": "张伟", "title": "采购经理", "phones": "138 0013 8000\n010-8888 6666", "emails": "zw@xingchen.cn",
        "account_ids": [account.pk], "owner_id": users["rep_a"].pk,
    })
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert contact.phone == "+8613800138000" and contact.primary_account == account
    assert contact.methods.count() == 3


def test_form_errors_are_shown_per_field_and_nothing_is_stored(login, users):
    CustomField.objects.create(model="contact", key="spend", label_zh="年采购额", label_en="Annual spend",
                               field_type="money")
    client = login(users["rep_a"])
    response = client.post(reverse("customers:contact_create"), {
        "name": "", "title": "经理", "phones": "138 0013 8000\ncall me", "emails": "nope@",
        "custom.spend": "lots", "preferred_channel": "pigeon", "owner_id": users["rep_a"].pk,
        "addresses.0.line": "", "addresses.0.postcode": "1" * 20, "addresses.0.kind": "office",
    })
    assert response.status_code == 200
    assert Contact.objects.count() == 0
    form = response.context["form"]
    assert set(form.errors) >= {"name", "phones", "emails", "custom.spend", "preferred_channel",
                                "addresses.0.postcode"}
    page = response.content.decode()
    # The typed values are still there.
    assert "经理" in page and "call me" in page and "nope@" in page and "lots" in page
    assert 'id="id_phones-errors"' in page or 'id_phones' in page


def test_edit_keeps_owner_and_links_the_user_may_not_change(login, users, zhang):
    account, contact = zhang
    client = login(users["manager_a"])
    form = client.get(reverse("customers:contact_edit", args=[contact.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if not k.startswith("_") and v is not None}
    data["title"] = "总经理"
    response = client.post(reverse("customers:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    contact.refresh_from_db()
    assert contact.title == "总经理" and contact.owner == users["rep_a"]
    assert audit_trail(contact).first().changes == {"title": ["采购经理", "总经理"]}


def test_edit_conflict_shows_both_versions_and_reapplies(login, users, zhang):
    _account, contact = zhang
    client = login(users["rep_a"])
    form = client.get(reverse("customers:contact_edit", args=[contact.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if not k.startswith("_") and v is not None}
    assert data["version"] == 1
    services.update_contact(users["manager_a"], contact, {"title": "销售总监"}, version=1)
    data["title"] = "总经理"
    response = client.post(reverse("customers:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 409
    page = response.content.decode()
    assert 'id="edit-conflict"' in page
    row = re.search(r'data-field="title">(.*?)</tr>', page, re.S).group(1)
    assert "销售总监" in row and "总经理" in row and "gx-differs" in page
    assert 'name="version" value="2"' in page
    contact.refresh_from_db()
    assert contact.title == "销售总监"
    data["version"] = 2
    response = client.post(reverse("customers:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "总经理" and contact.version == 3


def test_delete_asks_first(login, users, zhang):
    account, _contact = zhang
    client = login(users["rep_a"])
    assert client.get(reverse("customers:account_delete", args=[account.pk])).status_code == 200
    assert Account.objects.filter(pk=account.pk).exists()
    response = client.post(reverse("customers:account_delete", args=[account.pk]))
    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()


def test_note_with_htmx_returns_the_timeline(login, users, zhang):
    _account, contact = zhang
    client = login(users["rep_a"])
    url = reverse("customers:contact_note", args=[contact.pk])
    response = client.post(url, {"body": "电话沟通 <b>报价</b>"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="timeline"' in page and "<html" not in page
    assert "电话沟通 &lt;b&gt;报价&lt;/b&gt;" in page
    response = client.post(url, {"body": "   "}, HTTP_HX_REQUEST="true")
    assert "invalid-feedback" in response.content.decode()
    detail = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "电话沟通" in detail


def test_timeline_and_audit_show_translated_field_labels(login, users, zhang):
    _account, contact = zhang
    services.update_contact(users["rep_a"], contact, {"title": "总经理"}, version=1)
    client = login(users["rep_a"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert 'data-change-field="title"><span class="fw-semibold">Job title</span>' in page
    assert "采购经理" in page and "总经理" in page


# ---------------------------------------------------------------- lists


def test_list_filters_sort_and_pages(login, users):
    rep = users["rep_a"]
    for i in range(7):
        services.create_account(rep, {"name": f"公司{i}", "classification": "A" if i % 2 else "B"})
    client = login(rep)
    url = reverse("customers:account_list")
    response = client.get(url, {"classification": "A", "sort": "name"})
    assert [a.name for a in response.context["rows"]] == ["公司1", "公司3", "公司5"]
    import guanxi.customers.views as list_views

    old = list_views.PAGE_SIZE
    list_views.PAGE_SIZE = 3
    try:
        first = client.get(url, {"sort": "name"})
        assert [a.name for a in first.context["rows"]] == ["公司0", "公司1", "公司2"]
        cursor = first.context["page"].next_cursor
        second = client.get(url, {"sort": "name", "cursor": cursor})
        assert [a.name for a in second.context["rows"]] == ["公司3", "公司4", "公司5"]
        assert 'id="first-page"' in second.content.decode()
    finally:
        list_views.PAGE_SIZE = old
    partial = client.get(url, {"sort": "-name"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert "<html" not in partial.content.decode() and 'id="account-table"' in partial.content.decode()


@pytest.mark.parametrize("params", [{"classification": "Z"}, {"sort": "password"}, {"cursor": "garbage!"},
                                    {"owner": "someone"}, {"custom.nope": "1"}, {"updated_after": "yesterday"}])
def test_bad_filter_values_show_a_message(login, users, params):
    client = login(users["rep_a"])
    response = client.get(reverse("customers:account_list"), params)
    assert response.status_code == 200
    assert 'id="filter-errors"' in response.content.decode()


def test_custom_fields_in_list_and_filters(login, users):
    CustomField.objects.create(model="account", key="spend", label_zh="年采购额", label_en="Annual spend",
                               field_type="money", show_in_list=True)
    rep = users["rep_a"]
    services.create_account(rep, {"name": "大客户", "custom": {"spend": "15000"}})
    services.create_account(rep, {"name": "小客户", "custom": {"spend": "90"}})
    client = login(rep)
    response = client.get(reverse("customers:account_list"), {"custom.spend__gte": "1000"})
    assert [a.name for a in response.context["rows"]] == ["大客户"]
    assert "15000.00 CNY" in response.content.decode()


def test_list_page_runs_a_constant_number_of_queries(login, users, django_assert_max_num_queries):
    CustomField.objects.create(model="contact", key="level", label_zh="级别", label_en="Level", field_type="text",
                               show_in_list=True)
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "星辰"})
    client = login(rep)
    url = reverse("customers:contact_list")
    client.get(url)  # warm caches (content types, sessions)
    services.create_contact(rep, {"name": "联系人", "account_ids": [account.pk], "tags": ["a"]})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_row:
        client.get(url)
    for i in range(60):
        services.create_contact(rep, {"name": f"联系人{i}", "account_ids": [account.pk], "tags": ["a", f"t{i}"],
                                      "phones": [f"1380013{i:04d}"], "custom": {"level": "VIP"}})
    with django_assert_max_num_queries(len(one_row)):
        response = client.get(url)
    assert len(response.context["rows"]) == 50
    with django_assert_max_num_queries(len(one_row)):
        client.get(reverse("customers:account_list"))


def test_bulk_assign_and_tag(login, users):
    rep, manager = users["rep_a"], users["manager_a"]
    made = [services.create_account(rep, {"name": f"客户{i}"}) for i in range(3)]
    client = login(manager)
    url = reverse("customers:account_bulk")
    response = client.post(url, {"action": "assign", "ids": [made[0].pk, made[1].pk], "owner_id": users["rep_a2"].pk,
                                 "query": "sort=name"})
    assert response.status_code == 302 and response.url.endswith("?sort=name")
    assert Account.objects.filter(owner=users["rep_a2"]).count() == 2
    client.post(url, {"action": "tag", "ids": [m.pk for m in made], "tags": "重点，华北"})
    assert all(sorted(a.tags.values_list("name", flat=True)) == ["华北", "重点"] for a in Account.objects.all())
    # An owner the manager may not assign to: a message, nothing changes.
    response = client.post(url, {"action": "assign", "ids": [made[2].pk], "owner_id": users["rep_b"].pk}, follow=True)
    assert "Nothing was changed" in response.content.decode() or "rep_b" not in str(Account.objects.get(
        pk=made[2].pk).owner)
    assert Account.objects.get(pk=made[2].pk).owner == rep
    # rep_b cannot touch team A's records even by id.
    login(users["rep_b"]).post(url, {"action": "tag", "ids": [made[2].pk], "tags": "hijack"})
    assert not Account.objects.filter(tags__name="hijack").exists()


def test_saved_views(login, users):
    client = login(users["rep_a"])
    list_url = reverse("customers:account_list")
    response = client.post(reverse("saved_view_save"), {
        "model": "account", "name": "我的A类", "query": "classification=A&sort=name&cursor=abc", "next": list_url})
    view = SavedView.objects.get(user=users["rep_a"])
    assert view.query == "classification=A&sort=name"
    assert response.url == f"{list_url}?classification=A&sort=name"
    page = client.get(list_url).content.decode()
    assert "我的A类" in page and "classification=A&amp;sort=name" in page
    other = login(users["rep_b"])
    assert other.post(reverse("saved_view_delete", args=[view.pk])).status_code == 404
    client = login(users["rep_a"])
    client.post(reverse("saved_view_delete", args=[view.pk]), {"next": list_url})
    assert not SavedView.objects.exists()


# ---------------------------------------------------------------- language


def test_language_switch_changes_the_page_language_and_is_remembered(client, users):
    client.force_login(users["rep_a"])
    assert html_lang(client.get(reverse("home"))) == "zh-hans"
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert html_lang(client.get(reverse("home"))) == "en"
    assert User.objects.get(pk=users["rep_a"].pk).language == "en"
    # A fresh browser: the language follows the user at log-in.
    client.cookies.clear()
    response = client.post(reverse("login"), {"username": "rep_a", "password": "correct-horse-9"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert html_lang(client.get(reverse("home"))) == "en"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert html_lang(client.get(reverse("home"))) == "zh-hans"


# ---------------------------------------------------------------- administration


def test_custom_field_admin(login, users):
    assert login(users["rep_a"]).get(reverse("customfield_list")).status_code == 403
    client = login(users["admin"])
    assert client.get(reverse("customfield_list")).status_code == 200
    response = client.post(reverse("customfield_create"), {
        "model": "contact", "key": "level", "label_zh": "级别", "label_en": "Level", "field_type": "choice",
        "choices": "VIP\n普通\n", "show_in_list": "on"})
    assert response.status_code == 302
    field = CustomField.objects.get(key="level")
    assert field.choices == ["VIP", "普通"] and field.show_in_list
    bad = client.post(reverse("customfield_create"), {"model": "contact", "key": "Bad Key", "label_zh": "x",
                                                      "field_type": "choice", "choices": ""})
    assert bad.status_code == 200 and {"key"} <= set(bad.context["form"].errors)
    client.post(reverse("customfield_edit", args=[field.pk]), {"label_zh": "客户级别", "label_en": "Level",
                                                               "choices": "VIP\n普通\n潜在", "show_in_list": "on"})
    field.refresh_from_db()
    assert field.label_zh == "客户级别" and field.choices == ["VIP", "普通", "潜在"] and field.key == "level"
    # The field appears on the contact form at once.
    page = login(users["rep_a"]).get(reverse("customers:contact_create")).content.decode()
    assert 'name="custom.level"' in page
    client = login(users["admin"])
    client.post(reverse("customfield_active", args=[field.pk]), {"active": "0"})
    field.refresh_from_db()
    assert not field.active
    page = login(users["rep_a"]).get(reverse("customers:contact_create")).content.decode()
    assert 'name="custom.level"' not in page


def test_jobs_page_is_for_administrators(login, users):
    assert login(users["rep_a"]).get(reverse("job_list")).status_code == 403
    assert login(users["admin"]).get(reverse("job_list")).status_code == 200


def test_search_rebuild_job_shows_progress(login, users, settings, django_capture_on_commit_callbacks):
    pytest.importorskip("guanxi.core.jobs")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services.create_account(users["rep_a"], {"name": "北京星辰医疗科技有限公司"})
    client = login(users["admin"])
    assert login(users["rep_a"]).post(reverse("job_rebuild_search")).status_code == 403
    client = login(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("job_rebuild_search"), {"limit": "3"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'hx-trigger="every 1s"' in page  # answered before the job ran: the bar polls
    job_id = re.search(r'id="job-([0-9a-f-]+)"', page).group(1)
    progress = client.get(reverse("job_progress", args=[job_id]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 286  # done: htmx stops polling
    assert "100%" in progress.content.decode() and 'data-status="done"' in progress.content.decode()
    assert login(users["rep_a"]).get(reverse("job_progress", args=[job_id])).status_code == 404


def test_odd_ids_and_values_never_give_a_500(login, users):
    big = "9" * 30
    client = login(users["rep_a"])
    for url in (f"/accounts/{big}/", f"/contacts/{big}/edit/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/views/{big}/delete/").status_code == 404
    for url in (f"/accounts/?owner={big}", f"/accounts/?parent={big}", f"/contacts/?account={big}",
                f"/accounts/pick/?exclude={big}&picker_q=%00", f"/contacts/new/?account={big}",
                "/accounts/?custom.x__gte=NaN", "/search/?q=%00", "/search/suggest/?q=" + "张" * 500):
        assert client.get(url).status_code == 200, url
    assert client.post("/accounts/bulk/", {"ids": [big, "x"], "action": "tag", "tags": "x"}).status_code == 302
    response = client.post("/contacts/new/", {"name": "x", "account_ids": [big], "owner_id": big})
    assert response.status_code == 200 and "account_ids" in response.context["form"].errors
    assert not Contact.objects.exists()
    # NUL characters (PostgreSQL refuses them in text) are refused or dropped, never a database error.
    for url in ("/accounts/?q=%00", "/contacts/?tag=a%00b", "/search/?q=a%00b"):
        assert client.get(url).status_code == 200, url
    assert client.post("/contacts/new/", {"name": "x\x00"}).status_code == 200
    account = services.create_account(users["rep_a"], {"name": "星辰"})
    note = client.post(f"/accounts/{account.pk}/notes/", {"body": "a\x00b"}, HTTP_HX_REQUEST="true")
    assert note.status_code == 200 and "invalid-feedback" in note.content.decode()
    assert client.post("/accounts/bulk/", {"ids": [account.pk], "action": "tag", "tags": "a\x00b"}).status_code == 302
    saved = client.post(reverse("saved_view_save"), {"model": "account", "name": "v\x00", "query": ""})
    assert saved.status_code == 302
    client.logout()
    assert client.post(reverse("login"), {"username": "rep_a\x00", "password": "x"}).status_code == 200


def test_job_progress_polls_until_the_job_ends(login, users):
    from guanxi.core.models import JobProgress

    job = JobProgress.objects.create(kind="search_rebuild", label="Rebuild", user=users["admin"], status="running",
                                     total=10, done=3, message="3 of 10")
    client = login(users["admin"])
    url = reverse("job_progress", args=[job.pk])
    running = client.get(url, HTTP_HX_REQUEST="true")
    assert running.status_code == 200
    page = running.content.decode()
    assert "30%" in page and 'hx-trigger="every 1s"' in page and "3 of 10" in page
    JobProgress.objects.filter(pk=job.pk).update(status="done", done=10)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286  # htmx stops polling
    assert "100%" in done.content.decode() and "hx-trigger" not in done.content.decode()
    assert "Rebuild" in client.get(reverse("job_list")).content.decode()
    assert login(users["rep_a"]).get(url).status_code == 404


def test_the_detail_page_describes_an_address_change(users, zhang, client):
    """An edit of the addresses is audited as a list; the trail must show it, not fail on it."""
    from guanxi.customers import services

    _account, contact = zhang
    contact.refresh_from_db()
    services.update_contact(users["rep_a"], contact, {"addresses": [{"line": "上海市浦东新区世纪大道100号"}]},
                            contact.version)
    client.force_login(users["rep_a"])
    r = client.get(f"/contacts/{contact.pk}/")
    assert r.status_code == 200
    assert "世纪大道100号" in r.content.decode()
