"""Contact and account search with two-character terms ("yang li", most Chinese given names): on SQLite the
search index serves them (core.search's pair index; PostgreSQL tests them row by row), and whichever plan runs —
the index's id list, pairs tested row by row, the walk of the sort order — a search finds exactly the records
holding every term that the user may see."""

import pytest

from guanxi.core import search
from guanxi.core.search import matching, pairs_indexed, terms_of
from guanxi.customers import services
from guanxi.customers.models import Account, Contact

pytestmark = pytest.mark.django_db

NAMES = ["杨丽", "杨立新", "王丽华", "李杨", "Yang Lin", "欧阳丽丽", "张伟", "Li Yang", "杨 丽", "丽"]
QUERIES = ["yang li", "杨丽", "丽", "li", "yl", "丽华", "wang li", "lin", "杨 丽", "ya ng", "阳丽", "zw", "wei",
           "oy", "ly", "不存在", "x"]


def _found(qs, query: str) -> set[int]:
    return set(matching(qs, query).values_list("pk", flat=True))


@pytest.fixture
def people(users):
    admin = users["admin"]
    contacts = [services.create_contact(admin, {"name": name}) for name in NAMES]
    services.create_contact(users["rep_b"], {"name": "杨丽娟"})  # another team's: out of rep_a's sight
    return {c.pk: c.search_text for c in Contact.objects.filter(pk__in=[c.pk for c in contacts])}


def test_accounts_and_contacts_index_character_pairs_on_sqlite():
    # PostgreSQL's pair index is a stored column: on a million contacts it more than doubled the table.
    for model in (Contact, Account):
        assert pairs_indexed(model, "sqlite") and not pairs_indexed(model, "postgresql")


@pytest.mark.parametrize("plan", ["index", "pairs tested row by row", "walk"])
def test_every_term_as_a_substring_whichever_plan_runs(people, users, monkeypatch, plan):
    if plan == "pairs tested row by row":
        monkeypatch.setattr(search, "PAIR_FOLLOWERS_MAX", 0)
    elif plan == "walk":
        monkeypatch.setattr(search, "SMALL_MATCH", 0)
    every = Contact.objects.filter(pk__in=people)
    for query in QUERIES:
        expected = {pk for pk, text in people.items() if all(t in text for t in terms_of(query))}
        assert _found(every, query) == expected, query
    assert len(_found(every, "yang li")) >= 4  # 杨丽, 杨立新, 欧阳丽丽, Li Yang: the terms in any order and place
    assert _found(Contact.objects.all(), "杨丽") - set(people)  # 杨丽娟 too, for the administrator
    assert not _found(Contact.objects.visible_to(users["rep_a"]), "杨丽")


def test_the_pair_index_follows_a_rename_and_a_delete(people, users):
    admin = users["admin"]
    contact = Contact.objects.get(name="王丽华")
    services.update_contact(admin, contact, {"name": "王秀英"}, contact.version)
    assert contact.pk in _found(Contact.objects.all(), "秀英")
    assert contact.pk not in _found(Contact.objects.all(), "丽华")
    contact.delete()
    assert not _found(Contact.objects.all(), "秀英")


def test_accounts_are_found_by_a_two_character_term(users):
    account = services.create_account(users["admin"], {"name": "北京星辰医疗科技有限公司"})
    services.create_account(users["admin"], {"name": "上海云海贸易有限公司"})
    assert _found(Account.objects.all(), "星辰") == {account.pk}
    assert _found(Account.objects.all(), "医疗 北京") == {account.pk}
    assert len(_found(Account.objects.all(), "有限")) == 2
