"""Printing: the layout's geometry (no database), the PDFs it renders (read back with pypdf), and the print
views — only visible records, a selection that names hidden ids prints only the visible ones, bad input a 400."""

import io

import pytest
from pypdf import PdfReader

from guanxi.customers import print_services, printing, services
from guanxi.customers.printing import ENVELOPES, SHEETS, Box, Recipient, Text

MM = 72 / 25.4
ZHANG = Recipient("张伟", "北京星辰医疗科技有限公司", province="北京市", city="北京市", district="朝阳区",
                  street="建国路88号", postcode="100022")
ALICE = Recipient("Alice Smith", "Acme Trading Ltd", country="GB", city="London", street="10 Downing Street",
                  postcode="SW1A 2AA")


def inside(box: Box, width: float, height: float) -> bool:
    return 0 <= box.x and box.x + box.w <= width and 0 <= box.y and box.y + box.h <= height


# ------------------------------------------------------------------ layout, no database


@pytest.mark.parametrize(("key", "per_page"), [("a4_3x7", 21), ("a4_2x8", 16)])
def test_label_sheets_fit_the_page_without_overlap(key, per_page):
    sheet = SHEETS[key]
    boxes = sheet.positions()
    assert sheet.per_page == per_page == len(boxes)
    assert all(inside(b, 210, 297) for b in boxes)
    for a, b in zip(boxes, boxes[1:], strict=False):  # across then down, never overlapping
        assert b.x > a.x + a.w - 0.01 or b.y >= a.y + a.h - 0.01


@pytest.mark.parametrize(("key", "count", "pages"), [("a4_3x7", 21, 1), ("a4_3x7", 22, 2), ("a4_2x8", 33, 3)])
def test_labels_fill_pages_and_stay_inside_their_label(key, count, pages):
    result = printing.label_pages(SHEETS[key], [ZHANG, ALICE] * (count // 2) + [ZHANG] * (count % 2))
    assert len(result) == pages
    sheet = SHEETS[key]
    for page in result:
        for item in page.items:
            assert isinstance(item, Text)
            label = next(b for b in sheet.positions() if b.x <= item.x <= b.x + b.w and b.y <= item.y <= b.y + b.h)
            assert printing.approx_width(item.text, item.size) <= label.w - 2 * sheet.padding + 0.01


def test_chinese_label_reads_postcode_address_company_then_name():
    lines = [t.text for t in printing.label_pages(SHEETS["a4_3x7"], [ZHANG])[0].items]
    assert lines == ["100022", "北京市朝阳区建国路88号", "北京星辰医疗科技有限公司", "张伟 收"]


def test_western_label_reads_name_company_street_city_country():
    lines = [t.text for t in printing.label_pages(SHEETS["a4_2x8"], [ALICE])[0].items]
    assert lines == ["Alice Smith", "Acme Trading Ltd", "10 Downing Street", "London, SW1A 2AA", "UNITED KINGDOM"]


def test_a_long_address_wraps_and_a_long_name_is_cut():
    long = Recipient("欧阳" * 20, street="科技园南路" * 8, province="广东省", city="深圳市")
    texts = printing.label_pages(SHEETS["a4_3x7"], [long])[0].items
    assert len(texts) == 3  # address on two lines, then the name
    assert texts[-1].text.endswith("…")


@pytest.mark.parametrize("key", ["dl", "c5"])
def test_envelope_has_six_postcode_boxes_top_left_and_chinese_order(key):
    env = ENVELOPES[key]
    page = printing.envelope_page(env, ZHANG, printing.Sender(("上海云帆贸易有限公司", "上海市浦东新区世纪大道100号"),
                                                              "200120"))
    assert (page.width, page.height) == {"dl": (220, 110), "c5": (229, 162)}[key]
    boxes = [i for i in page.items if isinstance(i, Box) and not i.dashed]
    assert len(boxes) == 6
    assert all(b.x + b.w < env.width / 2 and b.y + b.h < env.height / 3 for b in boxes)  # top left
    assert [b.x for b in boxes] == sorted(b.x for b in boxes)
    texts = [i for i in page.items if isinstance(i, Text)]
    digits = [t.text for t in texts if t.size == 16]
    assert "".join(digits) == "100022"
    order = [t.text for t in texts if t.text in ("北京市朝阳区建国路88号", "北京星辰医疗科技有限公司", "张伟  收")]
    assert order == ["北京市朝阳区建国路88号", "北京星辰医疗科技有限公司", "张伟  收"]  # 地址, 公司, 姓名 收
    ys = {t.text: t.y for t in texts}
    assert ys["北京市朝阳区建国路88号"] < ys["北京星辰医疗科技有限公司"] < ys["张伟  收"]
    sender = next(t for t in texts if t.text == "邮政编码：200120")
    assert sender.align == "right" and sender.x > env.width * 0.8 and sender.y > env.height * 0.8  # bottom right


def test_envelope_for_abroad_is_western_without_postcode_boxes():
    page = printing.envelope_page(ENVELOPES["dl"], ALICE)
    assert not [i for i in page.items if isinstance(i, Box)]
    assert page.texts() == ["Alice Smith", "Acme Trading Ltd", "10 Downing Street", "London, SW1A 2AA",
                            "UNITED KINGDOM"]


def test_list_pages_repeat_the_heads_and_number_the_pages():
    columns = [printing.Column("姓名", 1), printing.Column("地址", 3)]
    pages = printing.list_pages("地址表", columns, [["张伟", printing.one_line(ZHANG)]] * 120)
    assert len(pages) == 3
    assert all("姓名" in p.texts() and "地址表" in p.texts() for p in pages)
    assert pages[-1].texts()[-1] == "3 / 3"


# ------------------------------------------------------------------ PDF


def pdf_of(pages) -> PdfReader:
    out = io.BytesIO()
    printing.render_pdf(pages, out)
    return PdfReader(io.BytesIO(out.getvalue()))


def test_pdf_pages_sizes_and_chinese_text():
    reader = pdf_of(printing.label_pages(SHEETS["a4_2x8"], [ZHANG] * 17))
    assert len(reader.pages) == 2
    assert round(float(reader.pages[0].mediabox.width) / MM) == 210
    assert "张伟 收" in reader.pages[0].extract_text()
    for key, size in (("dl", (220, 110)), ("c5", (229, 162))):
        reader = pdf_of(printing.envelope_pages(ENVELOPES[key], [ZHANG, ALICE]))
        assert len(reader.pages) == 2
        box = reader.pages[0].mediabox
        assert (round(float(box.width) / MM), round(float(box.height) / MM)) == size
        assert "北京星辰医疗科技有限公司" in reader.pages[0].extract_text()
        assert "Alice Smith" in reader.pages[1].extract_text()


# ------------------------------------------------------------------ views


@pytest.fixture
def people(zhang, users):
    account, zhang_contact = zhang
    services.update_account(users["rep_a"], account, {"addresses": [{"line": "北京市朝阳区建国路88号",
                                                                      "postcode": "100022"}]}, account.version)
    lina = services.create_contact(users["rep_a"], {"name": "李娜", "phones": ["021 6888 1234"],
                                                    "addresses": [{"line": "上海市浦东新区世纪大道100号"}]})
    chen = services.create_contact(users["rep_b"], {"name": "陈静", "addresses": [{"line": "广州市天河区体育西路1号"}]})
    return {"zhang": zhang_contact, "lina": lina, "chen": chen}


def errors_of(response) -> bytes:
    content = response.content
    start = content.index(b'id="print-errors"')
    return content[start:content.index(b"</div>", start)]


def text_of(response) -> str:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize("layout", list(print_services.LAYOUTS))
def test_every_layout_prints_the_current_filter(people, users, client, layout):
    client.force_login(users["rep_a"])
    text = text_of(client.get("/contacts/print/", {"layout": layout}))
    assert "张伟" in text and "李娜" in text
    assert "陈静" not in text  # rep_b's contact
    if layout == "phone_list":
        assert "021 6888 1234" in text
    if layout.startswith(("envelope", "labels")) or layout == "address_list":
        # 张伟 has no address of their own: their company's is used
        assert "建国路88号" in text


def test_selection_with_hidden_ids_prints_only_the_visible_ones(people, users, client):
    client.force_login(users["rep_a"])
    response = client.post("/contacts/print/", {"layout": "envelope_c5", "scope": "selection",
                                                "ids": [people["lina"].pk, people["chen"].pk]})
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "李娜" in text and "陈静" not in text
    only_hidden = client.post("/contacts/print/", {"layout": "labels_a4_3x7", "ids": [people["chen"].pk]})
    assert only_hidden.status_code == 400
    # the same answer as for an id that does not exist: nothing says the record is there
    missing = client.post("/contacts/print/", {"layout": "labels_a4_3x7", "ids": [999999]})
    assert missing.status_code == 400 and errors_of(missing) == errors_of(only_hidden)


def test_print_all_matching_from_the_bulk_bar_uses_the_list_query(people, users, client):
    client.force_login(users["rep_a"])
    response = client.post("/contacts/print/", {"layout": "address_list", "scope": "filter", "query": "q=李娜"})
    text = text_of(response)
    assert "李娜" in text and "张伟" not in text


def test_accounts_print_and_manager_sees_the_team(people, users, client):
    client.force_login(users["manager_a"])
    text = text_of(client.get("/accounts/print/", {"layout": "labels_a4_2x8"}))
    assert "北京星辰医疗科技有限公司 收" in text
    client.force_login(users["rep_b"])
    assert "陈静" in text_of(client.get("/contacts/print/", {"layout": "address_list"}))
    assert client.get("/accounts/print/", {"layout": "labels_a4_2x8"}).status_code == 400  # nothing to print


@pytest.mark.parametrize(("method", "data", "field"), [
    ("get", {"layout": "poster"}, "layout"),
    ("get", {}, "layout"),
    ("post", {"layout": "envelope_dl", "scope": "selection"}, "ids"),
    ("post", {"layout": "envelope_dl", "ids": ["abc", "-1"]}, "ids"),
    ("get", {"layout": "envelope_dl", "classification": "Z"}, "classification"),
])
def test_bad_input_is_a_clear_400(people, users, client, method, data, field):
    client.force_login(users["rep_a"])
    url = "/accounts/print/" if "classification" in data else "/contacts/print/"
    response = getattr(client, method)(url, data)
    assert response.status_code == 400
    assert f'data-fields="{field}"'.encode() in response.content


def test_too_many_records_is_a_400_with_the_limit(people, users, client, monkeypatch):
    monkeypatch.setattr(print_services, "MAX_RECORDS", 1)
    client.force_login(users["rep_a"])
    response = client.get("/contacts/print/", {"layout": "phone_list"})
    assert response.status_code == 400
    assert b"1" in response.content and b"filters" in response.content


def test_print_needs_login_and_the_list_offers_it(people, users, client):
    assert client.get("/contacts/print/", {"layout": "phone_list"}).status_code == 302
    client.force_login(users["viewer"])  # read-only: no bulk bar, but the export menu prints the filter
    page = client.get("/contacts/")
    assert b'data-print-layout="envelope_dl"' in page.content and b"export-xlsx" in page.content
    client.force_login(users["rep_a"])
    page = client.get("/contacts/")
    assert b'id="print-bar"' in page.content and b'formaction="/contacts/print/"' in page.content


def test_guanxi_pdf_font_embeds_a_truetype_font(monkeypatch):
    import reportlab

    vera = str(__import__("pathlib").Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")  # ships with ReportLab
    monkeypatch.setenv(printing.FONT_ENV, vera)
    font = printing.pdf_font()
    assert font != printing.CID_FONT
    out = io.BytesIO()
    printing.render_pdf(printing.envelope_pages(ENVELOPES["dl"], [ALICE], measure=printing.font_measure(font)), out,
                        font)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert "Alice Smith" in reader.pages[0].extract_text()
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert any("/FontFile2" in f.get_object()["/FontDescriptor"] for f in
               (v.get_object()["/DescendantFonts"][0] if "/DescendantFonts" in v.get_object() else v
                for v in fonts.values()) if "/FontDescriptor" in f.get_object())
