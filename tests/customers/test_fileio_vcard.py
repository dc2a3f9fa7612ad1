"""vCard reading (2.1, 3.0, 4.0) and writing (4.0) in customers.fileio, and their round trip."""

import io

import pytest

from guanxi.customers.fileio import FileFormatError, open_rows, vcard_chunks
from guanxi.customers.fileio.vcard import fold, parse_line

V3 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:张;伟;;;\r\n"
    "FN:张伟\r\n"
    "ORG:北京星辰科技有限公司;销售部\r\n"
    "TITLE:销售总监\r\n"
    "TEL;TYPE=CELL,VOICE:+86 138 0013 8000\r\n"
    "TEL;TYPE=WORK,VOICE:010-8888 6666\r\n"
    "TEL;TYPE=FAX:010-8888 6667\r\n"
    "EMAIL;TYPE=INTERNET,PREF:zhang.wei@example.cn\r\n"
    "EMAIL;TYPE=INTERNET:zw@home.cn\r\n"
    "ADR;TYPE=WORK:;;朝阳区建国路88号;北京;北京市;100022;中国\r\n"
    "BDAY:1990-05-01\r\n"
    "NOTE:第一行\\n第二行\\, 有逗号\\; 有分号 and a long line that is folded here over \r\n"
    " two physical lines\r\n"
    "CATEGORIES:VIP,北京\r\n"
    "item1.URL:https://example.cn\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\r\n"
    "END:VCARD\r\n"
)

V4 = (
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "FN:Alice Smith\n"
    "N:Smith;Alice;;;\n"
    'TEL;VALUE=uri;TYPE="cell,voice":tel:+44-7700-900123\n'
    "EMAIL:alice@acme.co.uk\n"
    'ADR;LABEL="1 High St\\nLondon":;;1 High St;London;;SW1A 1AA;UK\n'
    "BDAY:19851202\n"
    "UID:urn:uuid:1234\n"
    "THIS LINE IS GARBAGE\n"
    "END:VCARD\n"
)


def cards(text: str | bytes, filename: str = "c.vcf"):
    data = text.encode() if isinstance(text, str) else text
    table = open_rows(io.BytesIO(data), filename)
    assert table.format == "vcard"
    return list(table)


def test_vcard_3():
    (card,) = cards(V3)
    v = card.values
    assert card.line == 1 and card.problems == []
    assert (v["name"], v["family_name"], v["given_name"]) == ("张伟", "张", "伟")
    assert (v["account"], v["department"], v["title"]) == ("北京星辰科技有限公司", "销售部", "销售总监")
    assert (v["mobile"], v["phone"], v["other_phones"]) == ("+86 138 0013 8000", "010-8888 6666", "010-8888 6667")
    assert (v["email"], v["other_emails"]) == ("zhang.wei@example.cn", "zw@home.cn")
    assert (v["street"], v["city"], v["province"], v["postcode"], v["country"]) == (
        "朝阳区建国路88号", "北京", "北京市", "100022", "中国")
    assert v["birthday"] == "1990-05-01" and v["tags"] == "VIP, 北京" and v["website"] == "https://example.cn"
    assert v["notes"] == "第一行\n第二行, 有逗号; 有分号 and a long line that is folded here over two physical lines"


def test_vcard_4_with_a_garbage_line():
    (card,) = cards(V4)
    v = card.values
    assert v["mobile"] == "+44-7700-900123" and v["address"] == "1 High St\\nLondon"
    assert v["birthday"] == "1985-12-02" and v["external_id"] == "urn:uuid:1234"
    assert [p.params for p in card.problems] == [{"line": 10, "text": "THIS LINE IS GARBAGE"}]


def test_rfc6868_label():
    (card,) = cards('BEGIN:VCARD\nVERSION:4.0\nFN:x\nADR;LABEL="a^nb ^\'q^\' ^^":;;s;;;;\nEND:VCARD\n')
    assert card.values["address"] == "a\nb \"q\" ^"


def test_vcard_21_quoted_printable_and_charset():
    body = "王芳".encode("gb18030")
    qp = "".join(f"={b:02X}" for b in body)
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        f"N;CHARSET=GB2312;ENCODING=QUOTED-PRINTABLE:{qp[:6]}=\r\n{qp[6:]};\r\n"
        "FN;CHARSET=UTF-8;QUOTED-PRINTABLE:=E7=8E=8B=E8=8A=B3\r\n"
        "TEL;CELL;VOICE:13900000000\r\n"
        "END:VCARD\r\n"
    )
    (card,) = cards(text)
    assert card.values["family_name"] == "王芳" and card.values["name"] == "王芳"
    assert card.values["mobile"] == "13900000000" and card.problems == []


def test_several_cards_stray_lines_and_an_unclosed_card():
    text = V4.replace("THIS LINE IS GARBAGE\n", "") + "junk between\nmore junk\n" + V3.replace("END:VCARD\r\n", "")
    first, stray, last = cards(text)
    assert first.problems == [] and first.values["name"] == "Alice Smith"
    assert stray.values == {} and stray.problems[0].params == {"first": 11, "last": 12}
    assert last.line == 13 and last.values["name"] == "张伟"
    assert last.problems[0].text == "This vCard has no END:VCARD line."


def test_gb18030_vcard_file():
    (card,) = cards(V3.encode("gb18030"))
    assert card.values["name"] == "张伟"


def test_not_a_vcard():
    with pytest.raises(FileFormatError, match="BEGIN:VCARD"):
        cards(b"hello\nBEGIN:VCARD\n", "x.vcf")


def test_parse_line_quoted_params():
    assert parse_line('ADR;LABEL="a:b;c":;;x') == ("ADR", {"LABEL": ["a:b;c"]}, ";;x")
    assert parse_line("no colon here") is None
    assert parse_line(":value") is None


def test_fold_never_splits_a_character():
    line = "NOTE:" + "长" * 100 + "a" * 100
    folded = fold(line)
    physical = folded.split(b"\r\n")
    assert all(len(p) <= 75 for p in physical)
    for p in physical:
        p.decode("utf-8")  # each physical line is whole UTF-8
    assert b"".join(p[1:] if i else p for i, p in enumerate(physical)).decode() == line


ROW = {
    "name": "张伟", "family_name": "张", "given_name": "伟", "account": "星辰科技, 北京; 分公司",
    "department": "销售部",
    "title": "总监\\经理", "mobile": "+86 138 0013 8000", "phone": "010 8888 6666", "email": "zw@example.cn",
    "other_phones": "010 1, 010 2", "other_emails": "a@b.cn", "address": '北京市 "朝阳区"\n建国路88号',
    "street": "建国路88号", "district": "朝阳区", "city": "北京", "province": "北京市", "postcode": "100022",
    "country": "CN", "birthday": "1990-05-01", "website": "https://example.cn/a,b", "tags": "VIP, 北京, a;b",
    "notes": "多行\n备注; with, punctuation \\ and a very long text " * 5, "external_id": "crm:42",
}


def test_round_trip_of_every_column():
    data = b"".join(vcard_chunks([ROW, {"name": "Bob", "birthday": "May 1"}]))
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    first, second = cards(data)
    assert first.values == ROW and first.problems == []
    assert second.values["name"] == "Bob" and second.values["birthday"] == "May 1"


def test_writer_streams_in_chunks():
    chunks = list(vcard_chunks({"name": f"联系人{i}", "mobile": "13800138000"} for i in range(2000)))
    assert len(chunks) > 1 and all(isinstance(c, bytes) for c in chunks)
    assert len(cards(b"".join(chunks))) == 2000


def test_org_card():
    data = b"".join(vcard_chunks([{"name": "星辰科技", "account": "星辰科技"}], kind="org"))
    assert b"KIND:org" in data and cards(data)[0].values["account"] == "星辰科技"
