"""Duplicate-detection benchmark: `python -m bench.dedup --size 1000000`.

Generates N bilingual contacts (80 % Chinese names, 20 % English) of which a known share are injected
duplicates of another row: homophone characters (王→汪, 小→晓), typos in English names, phones
reformatted (+86 138-0013-8000, 138 0013 8000) or one digit off, day and month swapped or the date
reformatted, addresses shortened, emails re-cased, values dropped. Then runs the engine (`dedup`) and
prints wall time per phase, peak memory (getrusage), candidate pairs and precision / recall / F1 of the
reported pairs against the injected truth (every pair inside a group of copies counts as a true pair).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time

import numpy as np

from guanxi.quality.dedup import dedup

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
            "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉文斌飞鹏宇浩然晨欣怡佳琪子轩小晓梅林雪婷"
         "慧颖玲琳俊峰辉鑫波宁婷凯健亮海燕春秋冬雨阳光荣德福安康泽睿博思嘉诗雅涵梓若萱")
# Characters read the same (or near enough that pinyin agrees), as people mistype them.
HOMOPHONES = {
    "王": "汪", "汪": "王", "小": "晓", "晓": "小", "明": "铭", "伟": "玮", "丽": "莉", "静": "婧", "军": "君",
    "华": "桦", "芳": "方", "娜": "纳", "杰": "洁", "玲": "琳", "琳": "玲", "红": "宏", "英": "莹", "敏": "珉",
    "磊": "蕾", "洋": "阳", "阳": "扬", "勇": "永", "艳": "燕", "涛": "韬", "霞": "侠", "刚": "钢", "斌": "彬",
    "飞": "菲", "鹏": "朋", "宇": "雨", "浩": "昊", "欣": "新", "怡": "仪", "佳": "嘉", "琪": "琦", "轩": "萱",
    "文": "雯", "张": "章", "李": "黎", "刘": "柳", "杨": "阳", "黄": "皇", "徐": "许", "许": "徐", "吴": "伍",
    "林": "琳", "梅": "玫", "婷": "亭", "慧": "惠", "颖": "莹", "俊": "骏", "峰": "锋", "辉": "晖", "波": "博",
}
FIRST = ["James", "Mary", "John", "Linda", "Robert", "Susan", "Michael", "Karen", "David", "Emma", "Oliver",
         "Sophie", "Thomas", "Grace", "Daniel", "Chloe", "Matthew", "Lucy", "Andrew", "Hannah", "Peter", "Alice"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
        "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke"]
CITIES = [("北京市", "朝阳区", "100020"), ("上海市", "浦东新区", "200120"), ("广州市", "天河区", "510620"),
          ("深圳市", "南山区", "518052"), ("杭州市", "西湖区", "310012"), ("成都市", "武侯区", "610041"),
          ("南京市", "鼓楼区", "210008"), ("武汉市", "洪山区", "430070"), ("西安市", "雁塔区", "710061"),
          ("苏州市", "姑苏区", "215002"), ("天津市", "和平区", "300041"), ("重庆市", "渝中区", "400010")]
STREETS = ["建国路", "人民路", "解放路", "中山路", "长安街", "南京路", "科技园路", "文三路", "天府大道", "珠江路",
           "体育西路", "淮海路", "延安路", "和平路", "复兴路", "学院路"]
COMPANIES = ["华为技术", "腾讯科技", "阿里巴巴", "美的集团", "海尔智家", "比亚迪", "联想", "小米科技", "京东",
             "顺丰速运", "万科企业", "格力电器", "Acme Trading", "Globex", "Initech", "Umbrella Foods"]
FIELDS = {"name": "name", "phone": "phone", "email": "email", "birthday": "date", "address": "address",
          "postcode": "postcode", "company": "company"}


def _person(rng: random.Random, k: int) -> dict[str, str]:
    chinese = rng.random() < 0.8
    if chinese:
        name = rng.choice(SURNAMES[:40] if rng.random() < 0.7 else SURNAMES) + "".join(
            rng.choices(GIVEN, k=rng.choice([1, 2, 2])))
        city, district, postcode = rng.choice(CITIES)
        address = f"{city}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        email_user = f"u{k}"
    else:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        address = f"{rng.randint(1, 300)} {rng.choice(['High', 'Station', 'Church', 'Park', 'Mill'])} Road London"
        postcode = f"SW{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDEFG')}{rng.choice('HJLNPQ')}"
        email_user = f"{first}.{last}{k}".lower()
    year, month, day = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
    return {
        "name": name,
        "phone": f"1{rng.choice('3456789')}{k % 10**9:09d}" if rng.random() < 0.92 else "",
        "email": f"{email_user}@{rng.choice(['qq.com', '163.com', 'example.com'])}" if rng.random() < 0.5 else "",
        "birthday": f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.8 else "",
        "address": address if rng.random() < 0.85 else "",
        "postcode": postcode if rng.random() < 0.7 else "",
        "company": rng.choice(COMPANIES) + ("有限公司" if chinese else " Ltd") if rng.random() < 0.4 else "",
    }


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.4:
        return text[:i] + text[i + 1:]
    if op < 0.7:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rng.choice("aeiourstln") + text[i + 1:]


def _mutate(rng: random.Random, row: dict[str, str]) -> dict[str, str]:
    """A copy of a contact as someone else would have typed it: 1–3 changes."""
    dup = dict(row)
    for change in rng.sample(["name", "phone", "email", "birthday", "address", "company", "drop"], rng.randint(1, 3)):
        value = dup.get(change, "")
        if change == "name":
            if any("\u4e00" <= c <= "\u9fff" for c in value):
                spots = [i for i, c in enumerate(value) if c in HOMOPHONES]
                if spots:
                    i = rng.choice(spots)
                    value = value[:i] + HOMOPHONES[value[i]] + value[i + 1:]
            else:
                value = _typo(rng, value)
        elif change == "phone" and value:
            r = rng.random()
            if r < 0.4:
                value = f"+86 {value[:3]}-{value[3:7]}-{value[7:]}"
            elif r < 0.7:
                value = f"{value[:3]} {value[3:7]} {value[7:]}"
            else:
                i = rng.randrange(3, 11)
                value = value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1:]
        elif change == "email" and value:
            value = value.upper() if rng.random() < 0.5 else ""
        elif change == "birthday" and value:
            y, m, d = value.split("-")
            value = f"{y}-{d}-{m}" if int(d) <= 12 and rng.random() < 0.5 else f"{y}/{int(m)}/{int(d)}"
        elif change == "address" and value:
            value = value.replace("市", "", 1).replace("区", "", 1) if rng.random() < 0.5 else _typo(rng, value)
        elif change == "company" and value:
            value = value.replace("有限公司", "公司").replace(" Ltd", " Limited")
        elif change == "drop":
            dup[rng.choice(["email", "birthday", "address", "postcode", "company"])] = ""
            continue
        dup[change] = value
    return dup


def generate(size: int, dup_share: float, seed: int) -> tuple[list[dict[str, str]], np.ndarray]:
    """(rows, group): rows with the same group number are copies of one person."""
    rng = random.Random(seed)
    originals = round(size * (1 - dup_share))
    rows = [_person(rng, k) for k in range(originals)]
    group = list(range(originals))
    for _ in range(size - originals):
        g = rng.randrange(originals)
        rows.append(_mutate(rng, rows[g]))
        group.append(g)
    order = list(range(size))
    rng.shuffle(order)  # copies are not next to their originals in the file
    rows = [dict(rows[k], id=str(n)) for n, k in enumerate(order)]
    return rows, np.array([group[k] for k in order], dtype=np.int64)


def evaluate(index_1: np.ndarray, index_2: np.ndarray, group: np.ndarray) -> dict[str, float]:
    tp = int((group[index_1] == group[index_2]).sum())
    sizes = np.bincount(group)
    truth = int((sizes * (sizes - 1) // 2).sum())
    precision = tp / len(index_1) if len(index_1) else 0.0
    recall = tp / truth if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"true_pairs": truth, "found": len(index_1), "precision": precision, "recall": recall, "f1": f1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--dup-share", type=float, default=0.1, help="share of rows that are injected copies")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    rows, group = generate(args.size, args.dup_share, args.seed)
    generated = time.perf_counter()
    print(f"generated {len(rows):,} rows in {generated - started:.1f} s", flush=True)
    result = dedup(rows, FIELDS, id_field="id", progress=lambda m: print(f"  {m}", flush=True))
    elapsed = time.perf_counter() - generated
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scores = evaluate(result.index_1, result.index_2, group)
    report = {
        "size": len(rows), "seconds": round(elapsed, 1), "peak_rss_mb": round(peak_mb),
        "candidate_pairs": result.candidates, "threshold": round(result.threshold, 4),
        "em_iterations": result.model.iterations, **{k: round(v, 4) for k, v in scores.items()},
        "pairs_per_pass": result.per_pass,
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
