"""The database side of the duplicates scan: what it reads of each contact, and that it stores each pair once."""

import pytest

from guanxi.customers import services as customers
from guanxi.customers.models import Contact
from guanxi.quality import jobs
from guanxi.quality.models import DuplicatePair

pytestmark = pytest.mark.django_db


def test_read_table_takes_main_values_methods_address_and_company(users):
    rep = users["rep_a"]
    star = customers.create_account(rep, {"name": "北京星辰医疗科技有限公司"})
    first = customers.create_contact(rep, {
        "name": "王小明", "phones": ["138 0013 8000"], "emails": ["WXM@xingchen.cn"], "birthday": "1980-04-09",
        "account_ids": [star.pk], "addresses": ["北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号"]})
    second = customers.create_contact(rep, {"name": "汪晓明", "phones": ["13912345678"], "emails": ["x@moon.cn"]})
    bare = customers.create_contact(rep, {"name": "李娜"})
    # A row written outside the services, without the denormalised main phone and email: its methods count.
    Contact.objects.filter(pk=second.pk).update(phone="", email="")
    reports = []
    table = jobs.read_table("contact", chunk=2, report=lambda done, message: reports.append(done))
    rows = {r["id"]: r for r in table.records()}
    assert list(rows) == sorted([first.pk, second.pk, bare.pk])
    assert rows[first.pk]["phone"] == "+8613800138000" and rows[first.pk]["email"] == "wxm@xingchen.cn"
    assert str(rows[first.pk]["birthday"]) == "1980-04-09"
    assert rows[first.pk]["address"].startswith("北京") and "建国路88号" in rows[first.pk]["address"]
    assert rows[first.pk]["company"] == "北京星辰医疗科技有限公司"
    assert rows[second.pk]["phone"] == "+8613912345678" and rows[second.pk]["email"] == "x@moon.cn"
    assert rows[bare.pk] == {"id": bare.pk, "name": "李娜", "phone": "", "email": "", "birthday": None,
                             "address": "", "company": ""}
    assert reports == [2, 3]  # progress after each keyset chunk


def test_scan_stores_each_pair_once_in_order(crowd, wang):
    first = jobs.scan("contact")
    again = jobs.scan("contact")
    assert again["pairs"] == first["pairs"] >= 1 and again["new"] == 0
    stored = list(DuplicatePair.objects.filter(kind="contact").values_list("record_1", "record_2"))
    assert len(stored) == len(set(stored)) == first["pairs"]
    assert all(a < b for a, b in stored)


def test_read_table_of_accounts(users):
    rep = users["rep_a"]
    star = customers.create_account(rep, {"name": "北京星辰医疗科技有限公司", "phone": "010 6500 1234",
                                          "website": "https://xingchen.cn", "addresses": ["北京市朝阳区建国路88号"]})
    plain = customers.create_account(rep, {"name": "Acme Trading Ltd"})
    table = jobs.read_table("account", chunk=1)
    rows = {r["id"]: r for r in table.records()}
    assert set(rows) == {star.pk, plain.pk}
    assert rows[star.pk]["name"] == "北京星辰医疗科技有限公司" and rows[star.pk]["website"] == "https://xingchen.cn"
    assert "建国路88号" in rows[star.pk]["address"]
    assert rows[plain.pk]["address"] == "" and rows[plain.pk]["name"] == "Acme Trading Ltd"
