import csv
import io

from guanxi.core.models import CustomField
from guanxi.customers import services


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel opens UTF-8 only with a BOM
    return list(csv.reader(io.StringIO(text[1:])))


def test_export_holds_only_what_the_user_may_see_with_filters(zhang, users, login):
    CustomField.objects.create(model="contact", key="wechat", label_zh="微信号", label_en="WeChat ID",
                               field_type="text")
    services.create_contact(users["rep_a"], {"name": "李娜", "custom": {"wechat": "lina88"}})
    services.create_contact(users["rep_b"], {"name": "陈静"})
    response = login(users["rep_a"]).get("/contacts/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    names = sorted(r[1] for r in rows[1:])
    assert names == ["张伟", "李娜"]
    assert rows[0][-1] == "微信号"
    lina = next(r for r in rows if r[1] == "李娜")
    assert lina[-1] == "lina88"
    zhang_row = next(r for r in rows if r[1] == "张伟")
    assert "+8613800138000" in zhang_row and "北京星辰医疗科技有限公司" in zhang_row

    filtered = read_csv(login(users["rep_a"]).get("/contacts/export.csv?q=zw"))
    assert [r[1] for r in filtered[1:]] == ["张伟"]


def test_export_with_a_bad_filter_is_a_400_naming_it(zhang, users, login):
    response = login(users["rep_a"]).get("/accounts/export.csv?classification=Z")
    assert response.status_code == 400
    assert b"classification" in response.content


def test_export_needs_login(client, zhang):
    response = client.get("/accounts/export.csv")
    assert response.status_code == 302
