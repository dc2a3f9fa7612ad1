"""Agents' files on replies and notes (the staff ticket page and the API): the portal's checks, downloads only
for those who may see the ticket (404 otherwise), and a note's files never reach the customer."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanxi.core.services import issue_token
from guanxi.service import services as desk_services
from guanxi.service.csat_models import TicketAttachment
from guanxi.service.ticket_models import TicketMessage

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _post(client, ticket, kind, body, *files):
    return client.post(reverse("service:ticket_message", args=[ticket.pk]),
                       {"kind": kind, "body": body, "attachments": list(files)})


def _download(client, url):
    response = client.get(url)
    return response.status_code, b"".join(response.streaming_content) if response.status_code == 200 else b""


def test_an_agent_attaches_files_to_a_reply_and_a_note_and_the_customer_sees_only_the_replys(
        client, zhang_client, users, staff_ticket):
    client.force_login(users["admin"])
    assert _post(client, staff_ticket, "reply", "请看附件中的步骤。",
                 SimpleUploadedFile("步骤.pdf", PDF, "application/pdf")).status_code == 302
    assert _post(client, staff_ticket, "note", "内部截图",
                 SimpleUploadedFile("后台.png", PNG, "image/png")).status_code == 302
    reply_file = TicketAttachment.objects.get(name="步骤.pdf")
    note_file = TicketAttachment.objects.get(name="后台.png")
    assert reply_file.message.kind == "reply" and note_file.message.kind == "note"

    page = client.get(reverse("service:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert "步骤.pdf" in page and "后台.png" in page
    assert _download(client, reverse("service:ticket_attachment", args=[note_file.pk])) == (200, PNG)

    portal = zhang_client.get(reverse("portal:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert "步骤.pdf" in portal and "后台.png" not in portal and "内部截图" not in portal
    assert _download(zhang_client, reverse("portal:attachment", args=[reply_file.pk])) == (200, PDF)
    assert _download(zhang_client, reverse("portal:attachment", args=[note_file.pk]))[0] == 404


def test_someone_who_may_not_see_the_ticket_gets_a_404_for_its_files(client, users, staff_ticket):
    desk_services.add_note(users["admin"], staff_ticket, "合同扫描件",
                           files=[SimpleUploadedFile("合同.pdf", PDF, "application/pdf")])
    file = TicketAttachment.objects.get()
    client.force_login(users["rep_b"])  # another organisation's rep
    assert _download(client, reverse("service:ticket_attachment", args=[file.pk]))[0] == 404
    token = issue_token(users["rep_b"], "t")
    response = client.get(f"/api/v1/ticket-attachments/{file.pk}/content", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404
    client.force_login(users["rep_a"])  # the account's rep sees its tickets, and so their files
    assert _download(client, reverse("service:ticket_attachment", args=[file.pk])) == (200, PDF)


def test_a_refused_file_refuses_the_whole_message(client, users, staff_ticket, english):
    client.force_login(users["admin"])
    response = _post(client, staff_ticket, "reply", "附件如下",
                     SimpleUploadedFile("ok.pdf", PDF, "application/pdf"),
                     SimpleUploadedFile("setup.exe", b"MZ\x90\x00", "application/octet-stream"))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "setup.exe" in page and "not accepted" in page
    assert not TicketMessage.objects.filter(ticket=staff_ticket).exists()
    assert not TicketAttachment.objects.exists()


def test_the_api_takes_files_with_a_message_lists_them_and_serves_them(client, users, staff_ticket):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(users['admin'], 't')}"}
    response = client.post(f"/api/v1/tickets/{staff_ticket.pk}/messages/with-files",
                           {"body": "内部记录", "kind": "note",
                            "attachments": [SimpleUploadedFile("日志.pdf", PDF, "application/pdf")]}, **auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note" and [a["name"] for a in body["attachments"]] == ["日志.pdf"]
    assert body["attachments"][0]["internal"] is True
    listed = client.get(f"/api/v1/tickets/{staff_ticket.pk}/attachments", **auth).json()["items"]
    assert [a["id"] for a in listed] == [body["attachments"][0]["id"]]
    content = client.get(f"/api/v1/ticket-attachments/{listed[0]['id']}/content", **auth)
    assert content.status_code == 200 and b"".join(content.streaming_content) == PDF

    refused = client.post(f"/api/v1/tickets/{staff_ticket.pk}/messages/with-files",
                          {"body": "x", "attachments": [SimpleUploadedFile("a.png", b"nope", "image/png")]}, **auth)
    assert refused.status_code == 400 and "attachments" in refused.json()["errors"]
    bad_kind = client.post(f"/api/v1/tickets/{staff_ticket.pk}/messages/with-files", {"body": "x", "kind": "memo"},
                           **auth)
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["errors"]
    assert TicketMessage.objects.filter(ticket=staff_ticket).count() == 1
