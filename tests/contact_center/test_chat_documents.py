"""Pushing a document to the visitor during a chat: the agent uploads it (inbox, console or API), the visitor's
widget gets it live, and the file is served to that chat's visitor only — a signed link that expires and opens
with their key — and to staff who may see the chat. And the widget on the customer portal: a signed-in customer
identifies the visitor."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from guanxi.contact_center import chat_services as cs
from guanxi.contact_center.chat_models import ChatConversation, ChatDocument, ChatMessage, Visitor
from guanxi.core.services import issue_token
from guanxi.customers.timeline import timeline_for
from tests.api.conftest import ApiClient

from .conftest import ORIGIN
from .test_chat_socket import agent_socket, cookie_for, visitor_socket

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="报价单.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


def _download(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.status_code == 200 else response.content
    return response.status_code, body, response


@pytest.mark.django_db(transaction=True)
def test_the_agent_pushes_a_document_that_only_the_chats_visitor_can_open(site, agent, users, media, settings):
    agent_cookie = cookie_for(agent)
    staff = Client()
    staff.force_login(agent)

    async def scenario():
        desk = agent_socket(agent_cookie)
        assert (await desk.connect())[0]
        web = visitor_socket(site.public_key)
        assert (await web.connect())[0]
        state = await web.receive_json_from()
        await web.send_json_to({"type": "message", "body": "能发一下报价单吗？"})
        await web.receive_json_from()
        chat = (await desk.receive_json_from())["conversation"]
        sent = await sync_to_async(staff.post)(reverse("contact_center:inbox_chat_document", args=[chat]),
                                               {"file": pdf()})
        assert sent.status_code == 302
        pushed = await web.receive_json_from()
        while (seen := await desk.receive_json_from())["type"] != "message":
            pass  # the chat was taken ("inbox")
        await web.disconnect()
        again = visitor_socket(site.public_key, state["visitor"])  # the widget opened again: the document is there
        assert (await again.connect())[0]
        history = (await again.receive_json_from())["messages"]
        await again.disconnect()
        await desk.disconnect()
        return state["visitor"], chat, pushed, seen, history

    key, chat, pushed, seen, history = async_to_sync(scenario)()
    document = ChatDocument.objects.get()
    assert (pushed["sender"], pushed["body"], pushed["document"], pushed["size"]) == (
        "document", "报价单.pdf", document.pk, len(PDF))
    assert seen["sender"] == "document" and seen["document"] == document.pk
    assert history[-1]["sender"] == "document" and history[-1]["url"].startswith("/cc/chat/file/")
    assert ChatMessage.objects.get(document=document).agent == agent

    visitor = Client()  # the visitor's browser, on the company's website: no session, the key from the widget
    status, body, response = _download(visitor, f"{pushed['url']}?visitor={key}")
    assert (status, body) == (200, PDF)
    assert response["Content-Disposition"].startswith("attachment") and response["Cache-Control"] == "private, no-store"
    assert _download(visitor, pushed["url"])[0] == 404  # the link alone (forwarded, say) opens nothing
    other = Visitor.objects.create(site=site, last_seen=document.created_at)
    assert _download(visitor, f"{pushed['url']}?visitor={other.key}")[0] == 404  # nor another visitor's key
    assert _download(visitor, f"{pushed['url'][:-3]}abc?visitor={key}")[0] == 404  # a forged link
    settings.CC_CHAT_DOCUMENT_HOURS = 0
    status, body, _response = _download(visitor, f"{pushed['url']}?visitor={key}")
    assert status == 410 and b"expired" in body

    staff_url = reverse("contact_center:chat_document_staff", args=[document.pk])
    assert _download(staff, staff_url)[:2] == (200, PDF)
    outsider = Client()
    outsider.force_login(users["rep_b"])  # may not see the chat
    assert _download(outsider, staff_url)[0] == 404
    pane = staff.get(reverse("contact_center:inbox_open", args=["chat", chat])).content.decode()
    assert staff_url in pane and "报价单.pdf" in pane and 'id="document-form"' in pane


@pytest.mark.django_db
def test_a_refused_file_is_a_400_naming_the_field_and_stores_nothing(client, site, agent, media):
    visitor = Visitor.objects.create(site=site, last_seen="2026-11-24T10:00:00Z")
    chat, _message, _new = cs.visitor_says(visitor, "你好")
    client.force_login(agent)
    url = reverse("contact_center:inbox_chat_document", args=[chat.pk])
    for upload, reason in ((SimpleUploadedFile("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
                            "files of this type are not accepted"),
                           (pdf("伪装.pdf", b"MZ not a pdf"), "its content is not a PDF file"),
                           (None, "Choose a file.")):
        response = client.post(url, {"file": upload} if upload else {})
        assert response.status_code == 400 and reason in response.content.decode()
    assert not ChatDocument.objects.exists() and chat.messages.count() == 1
    console = client.post(reverse("contact_center:conversation_document", args=[chat.pk]),
                          {"file": pdf("<img src=x onerror=alert(1)>清单.pdf")}, follow=True)
    page = console.content.decode()
    assert "Sent &lt;img src=x onerror=alert(1)&gt;清单.pdf to the visitor." in page and "<img src=x" not in page
    assert ChatDocument.objects.get().name == "<img src=x onerror=alert(1)>清单.pdf"


@pytest.mark.django_db
def test_the_api_pushes_lists_and_serves_documents(site, agent, users, media):
    visitor = Visitor.objects.create(site=site, last_seen="2026-11-24T10:00:00Z")
    chat, _message, _new = cs.visitor_says(visitor, "你好")
    api = ApiClient(issue_token(agent))
    response = api.client.post(f"/api/v1/chat/conversations/{chat.pk}/documents", {"file": pdf()},
                               headers=api.headers)
    assert response.status_code == 201, response.content
    document = response.json()["document"]
    assert (response.json()["body"], document["name"], document["size"]) == ("报价单.pdf", "报价单.pdf", len(PDF))
    listed = api.get(f"chat/conversations/{chat.pk}/messages").json()["items"]
    assert [m["document"] and m["document"]["id"] for m in listed] == [None, document["id"]]
    content = api.client.get(f"/api/v1/chat/documents/{document['id']}/content", headers=api.headers)
    assert content.status_code == 200 and b"".join(content.streaming_content) == PDF
    refused = api.client.post(f"/api/v1/chat/conversations/{chat.pk}/documents",
                              {"file": SimpleUploadedFile("a.exe", b"MZ")}, headers=api.headers)
    assert refused.status_code == 400 and "file" in refused.json()["errors"]
    outsider = ApiClient(issue_token(users["rep_b"]))
    assert outsider.client.get(f"/api/v1/chat/documents/{document['id']}/content",
                               headers=outsider.headers).status_code == 404


# ------------------------------------------------------------------ the widget on the customer portal

@pytest.fixture
def portal_site(users, site):
    return cs.save_site(users["admin"], site, {"name": site.name, "allowed_origins": [ORIGIN], "active": True,
                                               "on_portal": True})


@pytest.mark.django_db
def test_portal_pages_carry_the_widget_of_the_portal_site(client, site, users):
    widget = f'data-site="{site.public_key}"'
    assert widget not in client.get(reverse("portal:kb")).content.decode()
    cs.save_site(users["admin"], site, {"name": site.name, "allowed_origins": [ORIGIN], "on_portal": True})
    page = client.get(reverse("portal:kb")).content.decode()
    assert f'<script src="/cc/widget.js" {widget} async></script>' in page


@pytest.mark.django_db(transaction=True)
def test_a_customer_signed_in_to_the_portal_is_the_visitor(portal_site, zhang, agent, users):
    from tests.portal.conftest import make_portal_user, portal_login

    _account, contact = zhang
    customer = portal_login(Client(), make_portal_user(contact, "zhang.wei@xingchen.cn"))
    cookie = f"sessionid={customer.cookies['sessionid'].value}".encode()
    own = "http://testserver"

    def socket(origin, with_cookie=True):
        headers = [(b"origin", origin.encode())] + ([(b"cookie", cookie)] if with_cookie else [])
        from guanxi.asgi import application

        from .ws import WebsocketCommunicator

        return WebsocketCommunicator(application, f"/ws/cc/visitor/{portal_site.public_key}/?visitor=",
                                     headers=headers)

    async def scenario():
        keys = []
        for origin, with_cookie in ((own, True), (own, False), (ORIGIN, True)):
            web = socket(origin, with_cookie)
            assert (await web.connect())[0]
            keys.append((await web.receive_json_from())["visitor"])
            if len(keys) == 1:
                await web.send_json_to({"type": "message", "body": "发票什么时候开？"})
                await web.receive_json_from()
            await web.disconnect()
        return keys

    signed_in, anonymous, elsewhere = async_to_sync(scenario)()
    assert Visitor.objects.get(key=signed_in).contact == contact  # identified by the portal session
    assert ChatConversation.objects.get(visitor__key=signed_in).contact == contact
    assert Visitor.objects.get(key=anonymous).contact is None  # nobody signed in
    assert Visitor.objects.get(key=elsewhere).contact is None  # another website's page: the session is not used
    assert "chat" in {item.kind for item in timeline_for(contact, users["admin"])}


@pytest.mark.django_db(transaction=True)
def test_our_own_pages_may_not_use_a_site_that_is_not_on_the_portal(site):
    async def scenario():
        web = visitor_socket(site.public_key, origin="http://testserver")
        return await web.connect()

    assert async_to_sync(scenario)() == (False, 4403)


@pytest.mark.django_db
def test_administrators_put_one_website_on_the_portal(client, users, agent):
    from guanxi.contact_center.chat_models import ChatSite

    client.force_login(users["admin"])
    form = {"name": "官网", "allowed_origins": "https://www.example.cn", "active": "on", "on_portal": "on"}
    assert client.post(reverse("contact_center:site_create"), form).status_code == 302
    assert client.post(reverse("contact_center:site_create"), {**form, "name": "客户门户"}).status_code == 302
    assert dict(ChatSite.objects.values_list("name", "on_portal")) == {"官网": False, "客户门户": True}
    assert "Customer portal</span>" in client.get(reverse("contact_center:site_list")).content.decode()
    page = client.get(reverse("contact_center:site_edit", args=[ChatSite.objects.get(name="客户门户").pk]))
    assert 'name="on_portal" checked' in page.content.decode()
    bad = client.post(reverse("contact_center:site_create"), {**form, "name": "", "allowed_origins": "ftp://x/y"})
    assert bad.status_code == 400 and ChatSite.objects.count() == 2
    client.force_login(agent)
    assert client.post(reverse("contact_center:site_create"), form).status_code == 403
