"""The pure email module: parsing, bounce and auto-reply detection, threading keys, subjects. No database."""

from email.message import EmailMessage

import pytest

from guanxi.contact_center import mail


def _msg(**headers) -> EmailMessage:
    m = EmailMessage()
    m["From"] = headers.pop("From", "张伟 <Zhang.Wei@Xingchen.CN>")
    m["To"] = headers.pop("To", "support@guanxi.test")
    m["Subject"] = headers.pop("Subject", "打印机坏了")
    for key, value in headers.items():
        m[key.replace("_", "-")] = value
    m.set_content(headers.get("body", "你好，打印机不能用了。"))
    return m


def test_parse_reads_sender_recipients_subject_and_body():
    m = _msg(Cc="Li <li@xingchen.cn>, wang@xingchen.cn", Message_ID="<abc@mx.xingchen.cn>")
    parsed = mail.parse(m.as_bytes())
    assert parsed.from_address == "zhang.wei@xingchen.cn"
    assert parsed.from_name == "张伟"
    assert parsed.to == ["support@guanxi.test"]
    assert parsed.cc == ["li@xingchen.cn", "wang@xingchen.cn"]
    assert parsed.subject == "打印机坏了"
    assert parsed.text == "你好，打印机不能用了。"
    assert parsed.message_id == "abc@mx.xingchen.cn" and not parsed.synthetic_id
    assert parsed.kind == mail.NORMAL


def test_missing_message_id_gets_a_stable_id_from_the_bytes():
    raw = _msg().as_bytes()
    first, second = mail.parse(raw), mail.parse(raw)
    assert first.synthetic_id and first.message_id == second.message_id
    assert mail.parse(raw + b"x").message_id != first.message_id


def test_thread_ids_nearest_first_and_token_in_subject():
    m = _msg(Message_ID="<c@x>", In_Reply_To="<b@x>", References="<a@x> <b@x>", Subject="Re: 打印机 [#T000042]")
    parsed = mail.parse(m.as_bytes())
    assert parsed.thread_ids == ["b@x", "a@x"]
    assert parsed.token == "T000042"
    assert mail.ticket_token("Re: x [#T-000123]") == "T000123"
    assert mail.ticket_token("no token [T000123]") is None


def test_reply_subject_does_not_pile_up():
    assert mail.reply_subject("Re: RE: 打印机 [#T000042]", "T000042") == "Re: 打印机 [#T000042]"
    assert mail.reply_subject("回复：发票", "T000007") == "Re: 发票 [#T000007]"


@pytest.mark.parametrize("header,value", [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"),
                                          ("Precedence", "bulk"), ("Precedence", "auto_reply")])
def test_auto_replies_are_recognised(header, value):
    m = _msg(Subject="Out of office")
    m[header] = value
    assert mail.parse(m.as_bytes()).kind == mail.AUTO_REPLY


def test_auto_submitted_no_is_a_person():
    m = _msg()
    m["Auto-Submitted"] = "no"
    assert mail.parse(m.as_bytes()).kind == mail.NORMAL


DSN = (b"From: MAILER-DAEMON@mx.guanxi.test\r\nTo: support@guanxi.test\r\nSubject: Undelivered Mail\r\n"
       b"Message-ID: <dsn1@mx>\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\r\n\r\n"
       b"--BB\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
       b"--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.guanxi.test\r\n\r\n"
       b"Final-Recipient: rfc822; Gone@Xingchen.CN\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
       b"--BB--\r\n")


def test_delivery_status_report_is_a_bounce_naming_the_failed_recipient():
    parsed = mail.parse(DSN)
    assert parsed.kind == mail.BOUNCE
    assert parsed.bounced == ["gone@xingchen.cn"]


def test_broken_multipart_is_malformed():
    raw = (b"From: a@b.cn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"NEVER\"\r\n\r\nno parts here at all\r\n")
    with pytest.raises(mail.MalformedMail, match="broken MIME"):
        mail.parse(raw)
    with pytest.raises(mail.MalformedMail):
        mail.parse(b"   ")
    with pytest.raises(mail.MalformedMail, match="sender"):
        mail.parse(b"Subject: nobody\r\n\r\nhello\r\n")


def test_attachments_kept_and_oversize_refused():
    m = _msg()
    m.add_attachment(b"x" * 10, maintype="application", subtype="pdf", filename="发票.pdf")
    m.add_attachment(b"y" * 100, maintype="image", subtype="png", filename="big.png")
    parsed = mail.parse(m.as_bytes(), max_attachment=50)
    small, big = parsed.attachments
    assert (small.filename, small.data, small.refused) == ("发票.pdf", b"x" * 10, "")
    assert (big.filename, big.size, big.data, big.refused) == ("big.png", 100, b"", "too_large")
    assert parsed.text == "你好，打印机不能用了。"


def test_html_only_mail_gives_text():
    m = EmailMessage()
    m["From"] = "a@b.cn"
    m.set_content("<p>你好</p><script>x()</script><p>世界</p>", subtype="html")
    assert mail.parse(m.as_bytes()).text == "你好\n世界"


def test_quarantine_id_reads_the_header_when_it_can():
    assert mail.quarantine_id(b"From: a@b\r\nMessage-ID: <x@y>\r\n\r\nbody") == "x@y"
    assert mail.quarantine_id(b"garbage").startswith("sha256-")
