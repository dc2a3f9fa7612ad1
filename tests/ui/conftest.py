import pytest

from guanxi.customers import services


@pytest.fixture
def zhang(users):
    """rep_a's account 北京星辰医疗科技有限公司 with 张伟 as its contact."""
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "北京星辰医疗科技有限公司", "classification": "A",
                                            "industry": "healthcare"})
    contact = services.create_contact(rep, {"name": "张伟", "title": "采购经理", "account_ids": [account.pk],
                                            "phones": ["138 0013 8000"], "emails": ["zhang.wei@xingchen.cn"]})
    return account, contact


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user
