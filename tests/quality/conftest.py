import random

import pytest

from guanxi.customers import services
from tests.api.conftest import api  # noqa: F401  (the API client per test user)

SURNAMES = "李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛超兰霞平刚桂华建国"


@pytest.fixture
def crowd(users):
    """40 unrelated contacts of rep_a and rep_b, so the scan's model has something to learn from."""
    rng = random.Random(7)
    made = []
    for k in range(40):
        owner = users["rep_a"] if k % 2 else users["rep_b"]
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2))
        made.append(services.create_contact(owner, {
            "name": name, "phones": [f"139{k:08d}"], "emails": [f"p{k}@example.cn"],
            "birthday": f"19{60 + k % 30}-0{1 + k % 9}-1{k % 9}",
        }))
    return made


@pytest.fixture
def wang(users):
    """王小明 (rep_a) and 汪晓明 (rep_a2's, shared by nobody): the same man typed twice, the same phone."""
    first = services.create_contact(users["rep_a"], {
        "name": "王小明", "phones": ["138 0013 8000"], "emails": ["wxm@xingchen.cn"], "birthday": "1980-04-09",
        "title": "采购经理"})
    second = services.create_contact(users["rep_a"], {
        "name": "汪晓明", "phones": ["+86 138-0013-8000"], "birthday": "1980-04-09", "department": "采购部"})
    return first, second
