import datetime as dt
from decimal import Decimal

import phonenumbers
import pytest

from guanxi.activities.models import Note
from guanxi.core import demo
from guanxi.core import demo_rows as R
from guanxi.core.models import CustomField, Role, Tag, Team, User
from guanxi.core.search import matching
from guanxi.customers import services
from guanxi.customers.models import Account, Address, Contact, ContactMethod
from guanxi.quality.normalize import normalize_email, pinyin_keys, search_text


@pytest.fixture
def loaded(db):
    result = demo.load(200, seed=7)
    assert result.created
    return result


def _names():
    return list(Contact.objects.order_by("pk").values_list("name", flat=True)) + list(
        Account.objects.order_by("pk").values_list("name", flat=True))


def test_counts_and_organisation(loaded):
    assert Contact.objects.count() == 200
    assert Account.objects.count() == 40
    assert Address.objects.filter(account__isnull=False).count() == 40
    assert ContactMethod.objects.filter(kind="phone", is_primary=True).count() == 200
    assert ContactMethod.objects.filter(kind="email", is_primary=True).count() == 200
    assert Note.objects.exists()
    assert {r for r in Role.values if r != Role.ADMIN} <= set(User.objects.values_list("role", flat=True))
    assert Team.objects.get(name="华北销售").parent.name == "销售部"
    assert CustomField.objects.filter(model="account", key="channel", field_type="choice").exists()
    assert CustomField.objects.filter(model="account", key="annual_purchase", field_type="money").exists()
    assert Tag.objects.count() >= 5


def test_records_are_consistent(loaded):
    chinese = english = 0
    for contact in Contact.objects.prefetch_related("methods", "accounts").select_related("owner"):
        assert contact.primary_account in list(contact.accounts.all())
        assert contact.owner.role == Role.SALES_REP and contact.team_id == contact.owner.team_id
        phones = [m.normalized for m in contact.methods.all() if m.kind == "phone"]
        emails = [m.normalized for m in contact.methods.all() if m.kind == "email"]
        assert contact.phone == phones[0] and contact.email == emails[0]
        for phone in phones:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
        assert normalize_email(contact.email) == contact.email
        # the loader's text is exactly what the services would have written
        assert contact.search_text == search_text(names=[contact.name], phones=phones, emails=emails)
        if any("\u4e00" <= ch <= "\u9fff" for ch in contact.name):
            chinese += 1
        else:
            english += 1
    assert chinese > english > 0
    for account in Account.objects.all():
        assert account.search_text == search_text(names=[account.name], phones=[account.phone],
                                                  emails=[account.email])
        assert account.classification in "ABCD" and account.industry
        assert phonenumbers.is_valid_number(phonenumbers.parse(account.phone)), account.phone
    assert Account.objects.filter(name__endswith="有限公司").exists()
    assert Address.objects.filter(country="CN", province__endswith="省").exists()
    assert len(set(Account.objects.values_list("name", flat=True))) == 40


def test_every_contact_is_found_by_pinyin_and_name(loaded):
    everyone = Contact.objects.all()
    for contact in Contact.objects.all():
        keys = pinyin_keys(contact.name)
        query = keys[0] if any("\u4e00" <= ch <= "\u9fff" for ch in contact.name) else contact.name
        assert matching(everyone, query).filter(pk=contact.pk).exists(), (contact.name, query)
        assert matching(everyone, contact.phone[-8:]).filter(pk=contact.pk).exists()


def test_search_index_works_after_the_load(loaded):
    rep = User.objects.get(username="rep1")
    contact = services.create_contact(rep, {"name": "欧阳娜娜", "phones": ["13912345670"]})
    assert list(matching(Contact.objects.all(), "ouyangnana")) == [contact]


def test_visibility_follows_owners(loaded):
    rep = User.objects.get(username="rep1")
    mine = Contact.objects.filter(owner=rep).count()
    assert mine > 0
    assert Contact.objects.visible_to(rep).count() == mine
    assert Contact.objects.visible_to(User.objects.get(username="manager")).count() == 200


def test_rerun_does_not_duplicate(loaded):
    users = User.objects.count()
    again = demo.load(200, seed=7)
    assert not again.created
    assert (again.contacts, again.accounts) == (200, 40)
    assert Contact.objects.count() == 200 and User.objects.count() == users


def test_a_database_with_real_customers_gets_no_demo_data_nor_demo_logins(users):
    services.create_contact(users["rep_a"], {"name": "真实客户"})
    before = set(User.objects.values_list("username", flat=True))
    result = demo.load(200, seed=7)
    assert not result.created and result.contacts == 1
    assert set(User.objects.values_list("username", flat=True)) == before


def test_same_seed_same_data_other_seed_other_data(loaded):
    first = _names()
    Contact.objects.all().delete()
    Account.objects.all().delete()
    assert demo.load(200, seed=7).created
    assert _names() == first
    Contact.objects.all().delete()
    Account.objects.all().delete()
    demo.load(200, seed=8)
    assert _names() != first


def _plan(**kw):
    defaults = dict(seed=3, n_accounts=50, n_contacts=250, account_base=1, contact_base=1,
                    reps={"华北销售": [(1, 1)], "华南销售": [(2, 2), (3, 2)]}, tag_ids=[1, 2, 3],
                    anchor=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), sqlite=True, chunk_accounts=10)
    return R.Plan(**{**defaults, **kw})


def test_chunks_are_the_same_built_in_parallel():
    plan = _plan()
    serial = [R.build_chunk(plan, k) for k in range(plan.chunks)]
    parallel = list(demo._chunks(plan, workers=2))
    assert [c.contacts for c in parallel] == [c.contacts for c in serial]
    assert sum(len(c.contacts) for c in serial) == 250 and sum(len(c.accounts) for c in serial) == 50
    phones = [m[3] for c in serial for m in c.methods if m[1] == "phone" and m[5]]
    assert len(set(phones)) == len(phones) == 250


def test_duplicate_company_names_are_renamed():
    rows = R.build_chunk(_plan(), 0)
    original = rows.accounts[0][R.ACCOUNT_NAME]
    taken = {original}
    demo._unique_names(rows, taken)
    renamed = rows.accounts[0]
    assert renamed[R.ACCOUNT_NAME] != original and renamed[R.ACCOUNT_NAME].startswith(original)
    assert renamed[R.ACCOUNT_SEARCH] == search_text(names=[renamed[R.ACCOUNT_NAME]],
                                                    phones=[renamed[R.ACCOUNT_PHONE]],
                                                    emails=[renamed[R.ACCOUNT_EMAIL]])
    assert len(taken) == len(rows.accounts) + 1  # every name distinct, and remembered


def test_reps_outside_the_sales_regions_still_own_customers():
    rows = R.build_chunk(_plan(reps={"大客户部": [(9, 4)]}), 0)
    assert {row[12:14] for row in rows.accounts} == {(9, 4)}
    assert {row[13:15] for row in rows.contacts} == {(9, 4)}


def test_generated_search_text_equals_the_services_for_every_kind_of_number():
    rows = R.build_chunk(_plan(n_accounts=400, n_contacts=2000, chunk_accounts=400), 0)
    methods: dict[int, list[tuple]] = {}
    for m in rows.methods:
        methods.setdefault(m[0], []).append(m)
    for c in rows.contacts:
        mine = methods[c[0]]
        assert c[12] == search_text(names=[c[1]], phones=[m[3] for m in mine if m[1] == "phone"],
                                    emails=[m[3] for m in mine if m[1] == "email"])
    phones = {m[3][:3] for m in rows.methods if m[1] == "phone"}
    assert {"+86", "+44"} <= phones and any(p.startswith("+1") for p in phones)
    for m in rows.methods:
        if m[1] == "phone":
            assert phonenumbers.is_valid_number(phonenumbers.parse(m[3])), m


def test_the_demo_has_an_answered_nps_survey_and_sends_no_mail(loaded):
    from guanxi.service.nps_models import NpsInvitation, NpsResponse

    answers = NpsResponse.objects.all()
    assert 10 <= answers.count() <= 30
    assert {a.score >= 9 for a in answers} == {True, False}  # promoters and others
    assert all(0 <= a.score <= 10 and a.contact.primary_account_id == a.account_id for a in answers)
    assert not NpsInvitation.objects.filter(sent_at__isnull=True, skip_reason="").exists()


def test_the_demo_has_two_years_of_orders_and_is_scored(loaded):
    """So that the analytics pages of `make demo` show something: a history of confirmed orders for the demo's
    accounts with an owner, each order's lines adding up to it (to the cent: a split in two), and one scoring
    run over them."""
    from django.db.models import Sum

    from guanxi.analytics.models import CustomerScore, ScoringRun
    from guanxi.sales.quote_models import Order, OrderLine

    history = Order.objects.filter(number__startswith="H7-")
    today = dt.date.today()
    assert history.count() > 100
    # Each sold by its account's owner at the time (the public pool takes some accounts back afterwards).
    assert not history.exclude(status="confirmed").exists() and not history.filter(owner=None).exists()
    first, last = (history.order_by(f).values_list("ordered_on", flat=True)[0] for f in ("ordered_on", "-ordered_on"))
    assert today - dt.timedelta(days=731) <= first and last < today + dt.timedelta(days=1)
    sums = dict(OrderLine.objects.filter(order__in=history).values_list("order").annotate(s=Sum("net")))
    assert all(abs(sums[o.pk] - o.net_total) <= Decimal("0.01") for o in history)
    run = ScoringRun.objects.get()
    assert run.status == "done", run.message
    assert CustomerScore.objects.filter(account__in=history.values("account")).count() == \
        history.values("account").distinct().count()
