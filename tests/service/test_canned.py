"""Canned replies: placeholders filled from the ticket (unknown ones refused when written, left alone when
met), shared ones only by managers, personal ones private, insertion on the ticket page and over the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.customers import services as customer_services
from guanxi.service import canned_services, placeholders, services
from guanxi.service.models import CannedReply

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


def test_fill_replaces_known_placeholders_and_leaves_the_rest():
    text = "您好 {customer}，工单 {ticket}（{subject}）已处理。{agent} {unknown} {Customer} {"
    out = placeholders.fill(text, {"customer": "张敏", "ticket": "T000007", "subject": "发票", "agent": "王芳"})
    assert out == "您好 张敏，工单 T000007（发票）已处理。王芳 {unknown} {Customer} {"
    assert placeholders.fill("{account}", {}) == ""
    assert placeholders.unknown("{customer} {name} {x_y}") == ["name", "x_y"]


@pytest.fixture
def ticket(desk, users):
    account = customer_services.create_account(users["rep_a"], {"name": "杭州云帆科技"})
    contact = customer_services.create_contact(users["rep_a"], {"name": "张敏", "account_ids": [account.pk]})
    return services.create_ticket(users["rep_a"], {"subject": "发票抬头", "account_id": account.pk,
                                                   "contact_id": contact.pk,
                                                   "question_group_id": desk["billing"].pk}, now=TUESDAY_10)


def test_managers_share_agents_keep_their_own(desk, ticket):
    lead, wang, li = desk["lead"], desk["wang"], desk["li"]
    shared = canned_services.save_canned(lead, {
        "title": "发票已重开", "body": "{customer}您好，{ticket} 的发票已重开。", "shared": True,
        "question_group_id": desk["billing"].pk})
    assert shared.owner is None
    with pytest.raises(ValidationError) as refused:
        canned_services.save_canned(wang, {"title": "x", "body": "y", "shared": True})
    assert "shared" in refused.value.message_dict
    mine = canned_services.save_canned(wang, {"title": "稍等", "body": "{agent} 正在处理"})
    assert mine.owner == wang
    assert set(canned_services.usable_by(li)) == {shared}
    assert set(canned_services.usable_by(wang)) == {shared, mine}
    with pytest.raises(PermissionDenied):
        canned_services.save_canned(wang, {"title": "改", "body": "改"}, shared)
    with pytest.raises(PermissionDenied):
        canned_services.delete_canned(li, mine)
    with pytest.raises(ValidationError) as bad:
        canned_services.save_canned(wang, {"title": "", "body": "您好 {name}", "question_group_id": 999})
    assert set(bad.value.message_dict) == {"title", "body", "question_group_id"}
    assert "{name}" in bad.value.message_dict["body"][0]
    assert CannedReply.objects.count() == 2
    assert canned_services.fill_for(wang, ticket, shared) == f"张敏您好，{ticket.number} 的发票已重开。"
    shared.refresh_from_db()
    assert shared.uses == 1


def test_ticket_page_inserts_filled_text_and_hides_others_personal_replies(client, desk, ticket):
    lead, wang = desk["lead"], desk["wang"]
    shared = canned_services.save_canned(lead, {"title": "问候 <b>", "body": "<script>{customer}</script>",
                                               "shared": True})
    private = canned_services.save_canned(lead, {"title": "组长私用", "body": "内部"})
    client.force_login(wang)
    page = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert 'id="canned-insert"' in page and "问候 &lt;b&gt;" in page and "组长私用" not in page
    filled = client.get(f"/service/tickets/{ticket.pk}/canned/", {"id": shared.pk})
    assert filled.json() == {"text": "<script>张敏</script>"}  # text for a text box, set as text by the page
    assert client.get(f"/service/tickets/{ticket.pk}/canned/", {"id": private.pk}).status_code == 404
    assert client.get(f"/service/tickets/{ticket.pk}/canned/", {"id": "x"}).status_code == 404
    listing = client.get("/service/canned-replies/").content.decode()
    assert 'id="nav-canned"' in listing and "&lt;script&gt;" in listing and "<script>{customer}" not in listing
    bad = client.post("/service/canned-replies/", {"title": "坏", "body": "{nope}"})
    assert bad.status_code == 400 and 'id="canned-errors"' in bad.content.decode()
    ok = client.post("/service/canned-replies/", {"title": "好", "body": "{subject} 已收到"})
    assert ok.status_code == 302 and CannedReply.objects.get(title="好").owner == wang


def test_api(client, desk, ticket):
    client.force_login(desk["lead"])
    made = client.post("/api/v1/canned-replies", {"title": "已处理", "body": "{ticket} 已处理", "shared": True},
                       content_type="application/json")
    assert made.status_code == 201 and made.json()["shared"] is True
    rid = made.json()["id"]
    assert [r["id"] for r in client.get("/api/v1/canned-replies").json()] == [rid]
    filled = client.get(f"/api/v1/tickets/{ticket.pk}/canned-replies/{rid}")
    assert filled.status_code == 200 and filled.json() == {"text": f"{ticket.number} 已处理"}
    refused = client.post("/api/v1/canned-replies", {"title": "", "body": "{zzz}"}, content_type="application/json")
    assert refused.status_code == 400 and {"title", "body"} <= set(refused.json()["errors"])
    assert client.get(f"/api/v1/tickets/{ticket.pk}/canned-replies/99999").status_code == 404
