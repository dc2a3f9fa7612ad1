"""CSV and XLSX readers of customers.fileio: encodings, delimiters, ragged rows, sheets, limits."""

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from guanxi.customers.fileio import FileFormatError, open_rows
from guanxi.customers.fileio.readers import cell_text, sniff_delimiter
from guanxi.customers.fileio.textio import SAMPLE, detect_encoding

CSV = ("姓名,手机,公司名称,Email\n张伟,13800138000,北京星辰科技有限公司,zhang.wei@example.cn\n"
       "Alice Smith,+44 7700 900123,Acme Ltd,alice@acme.co.uk\n")


def rows(data: bytes, filename: str = "contacts.csv", **kwargs):
    table = open_rows(io.BytesIO(data), filename, **kwargs)
    return table, list(table)


def test_utf8_csv():
    table, got = rows(CSV.encode())
    assert table.format == "csv" and table.encoding == "utf-8" and table.delimiter == ","
    assert table.headers == ["姓名", "手机", "公司名称", "Email"]
    assert [(r.line, r.values["姓名"], r.problems) for r in got] == [(2, "张伟", []), (3, "Alice Smith", [])]
    line, values = got[0]  # a Row unpacks as (line, values)
    assert line == 2 and values["公司名称"] == "北京星辰科技有限公司"


def test_utf8_bom_is_not_part_of_the_first_header():
    table, got = rows(b"\xef\xbb\xbf" + CSV.encode())
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "姓名" and got[0].values["姓名"] == "张伟"


def test_gbk_file_is_read_as_gb18030():
    table, got = rows(CSV.encode("gbk"))
    assert table.encoding == "gb18030"
    assert got[0].values["公司名称"] == "北京星辰科技有限公司"


def test_gb18030_after_an_ascii_start_longer_than_the_sample():
    # sorted by English name: the first Chinese bytes come after the 64 KiB the detector looks at
    head = "name,city\n" + "".join(f"Person {i},London\n" for i in range(SAMPLE // 16))
    data = (head + "张伟,北京\n").encode("gb18030")
    assert len(head) > SAMPLE
    table, got = rows(data)
    assert got[-1].values == {"name": "张伟", "city": "北京"}
    assert table.encoding == "gb18030"


def test_utf16_with_bom():
    table, got = rows(CSV.encode("utf-16"))
    assert table.encoding == "utf-16"
    assert got[1].values["Email"] == "alice@acme.co.uk"


def test_utf16_without_bom_mostly_chinese():
    text = "姓名,手机\n" + "".join(f"张伟{i},1380013800{i}\n" for i in range(10))
    for encoding in ("utf-16-le", "utf-16-be"):
        table, got = rows(text.encode(encoding))
        assert table.encoding == encoding and got[9].values == {"姓名": "张伟9", "手机": "13800138009"}


def test_semicolon_and_tab_delimiters():
    table, got = rows(CSV.replace(",", ";").encode())
    assert table.delimiter == ";" and got[0].values["手机"] == "13800138000"
    table, got = rows(CSV.replace(",", "\t").encode(), "contacts.tsv")
    assert table.delimiter == "\t" and got[1].values["姓名"] == "Alice Smith"


def test_excel_sep_hint_line():
    table, got = rows(b"sep=;\nname;city\nA;B\n")
    assert table.headers == ["name", "city"] and got[0].values == {"name": "A", "city": "B"}


def test_sniff_ignores_quoted_delimiters():
    assert sniff_delimiter('"a,b,c";d;e\n') == ";"
    assert sniff_delimiter("onlyone\n") == ","


def test_ragged_rows_are_reported_per_row_and_reading_goes_on():
    data = b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n1,2,3,,\n\n,,\n7,8,9\n"
    _table, got = rows(data)
    assert [r.line for r in got] == [2, 3, 4, 5, 8]  # blank line 6 and empty row 7 skipped
    short, long_ = got[1], got[2]
    assert short.values == {"a": "1", "b": "2", "c": ""}
    assert short.problems[0].params == {"count": 2, "width": 3}
    assert long_.problems[0].text == "This row has 4 values but the header has 3 columns."
    assert got[3].problems == []  # only empty cells beyond the header: an extra delimiter, not ragged


def test_quoted_newlines_keep_the_starting_line_number():
    data = b'name,notes\nA,"one\ntwo"\nB,x\n'
    _table, got = rows(data)
    assert [(r.line, r.values["notes"]) for r in got] == [(2, "one\ntwo"), (4, "x")]


def test_bad_quoting_is_a_row_problem_and_reading_goes_on():
    _table, got = rows(b'a,b\n"x"y,2\n5,6\n1,"never closed\n3,4\n')
    assert [(r.line, r.values) for r in got] == [(2, {}), (3, {"a": "5", "b": "6"}), (4, {})]
    assert "quote" in got[0].problems[0].text and got[2].problems[0].params == {"detail": "unexpected end of data"}


def test_a_huge_field_is_a_row_problem():
    _table, got = rows(b'a,b\n1,"' + b"x" * 200_000 + b'\n3,4\n')
    assert got[0].values == {} and "field limit" in got[0].problems[0].params["detail"]


def test_old_mac_line_ends():
    table, got = rows("姓名,手机\r张伟,1\r李娜,2\r".encode("gb18030"))
    assert table.encoding == "gb18030" and [(r.line, r.values["姓名"]) for r in got] == [(2, "张伟"), (3, "李娜")]


def test_duplicate_and_blank_headers_become_distinct_keys():
    table, _got = rows(b"phone,,phone\n1,2,3\n")
    assert table.headers == ["phone", "column 2", "phone (2)"]


def test_not_a_known_encoding_names_the_line():
    data = b"name,city\nA,B\n" + "Café,Zürich\n".encode("cp1252").replace(b"\xe9", b"\xe9\xff")
    with pytest.raises(FileFormatError) as e:
        rows(data)
    assert e.value.line == 3 and "UTF-8" in e.value.message


def test_bad_bytes_after_the_sample_name_their_line():
    data = ("name\n" + "x\n" * (SAMPLE // 2) + "张伟\n").encode() + b"\xff\xfe\xfa\n"
    table = open_rows(io.BytesIO(data), "a.csv")
    with pytest.raises(FileFormatError) as e:
        list(table)
    assert e.value.line == SAMPLE // 2 + 3 and e.value.params == {"encoding": "UTF-8"}


def test_binary_data_is_refused():
    with pytest.raises(FileFormatError, match="binary"):
        rows(b"name\nA\x00\x01\x02\x03\xff\n")


def test_empty_file():
    for data in (b"", b"\n\n  \n", b"\xef\xbb\xbf"):
        with pytest.raises(FileFormatError, match="empty"):
            rows(data)


def test_size_limit_refuses_before_parsing(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"name\n" + b"x" * 2000)
    with pytest.raises(FileFormatError) as e:
        open_rows(path, "big.csv", max_bytes=1000)
    assert "largest file" in e.value.text and e.value.params["limit"] == "1000 bytes"


def test_size_limit_on_a_stream_that_cannot_seek():
    class Pipe(io.RawIOBase):
        def __init__(self):
            self.data = io.BytesIO(b"name\n" + b"x\n" * 100_000)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, b):
            return self.data.readinto(b)

    table = open_rows(Pipe(), "pipe.csv", max_bytes=150_000)
    with pytest.raises(FileFormatError, match="largest file"):
        list(table)


def test_path_input_is_closed_with_the_table(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CSV, encoding="utf-8")
    with open_rows(path) as table:
        assert len(list(table)) == 2


def test_formula_text_in_csv_is_kept_as_text():
    _table, got = rows(b'name,notes\nA,"=HYPERLINK(""http://x"")"\n')
    assert got[0].values["notes"] == '=HYPERLINK("http://x")'


def test_old_excel_is_refused_clearly():
    with pytest.raises(FileFormatError, match=r"\.xls"):
        rows(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls")


def test_detect_encoding_tolerates_a_character_cut_at_the_end_of_the_sample():
    data = "张伟".encode()
    assert detect_encoding(data[:-1], complete=False) == "utf-8"


# XLSX ----------------------------------------------------------------------------------------------


def make_workbook(path, second_sheet: bool = False):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append([])  # a blank first row: the header is the first row with anything in it
    sheet.append(["姓名", "手机", "生日", "备注", "金额", "签约时间"])
    sheet.append(["张伟", 13800138000, dt.datetime(1990, 5, 1), "=1+1", 12.5, dt.datetime(2024, 3, 1, 9, 30)])
    sheet.append(["李娜", "+86 139 0000 0000", dt.date(1985, 1, 2), "@sum(A1)", None, None])
    sheet.append([None] * 6)
    sheet.append(["王芳", "-1", None, "+cmd", 3, None, "extra"])
    if second_sheet:
        other = book.create_sheet("Accounts")
        other.append(["公司名称", "行业"])
        other.append(["星辰科技", "软件"])
    book.save(path)
    return path


def test_xlsx_first_sheet(tmp_path):
    path = make_workbook(tmp_path / "c.xlsx")
    with open_rows(path, "c.xlsx") as table:
        got = list(table)
    assert table.format == "xlsx"
    assert table.headers == ["姓名", "手机", "生日", "备注", "金额", "签约时间"]
    first, second, third = got
    assert first.line == 3 and first.values == {
        "姓名": "张伟", "手机": "13800138000", "生日": "1990-05-01", "备注": "=1+1", "金额": "12.5",
        "签约时间": "2024-03-01T09:30:00"}
    assert second.values["生日"] == "1985-01-02" and second.values["备注"] == "@sum(A1)"
    assert third.line == 6 and third.values["备注"] == "+cmd"
    assert third.problems and third.problems[0].params == {"count": 7, "width": 6}


def test_xlsx_named_sheet_and_missing_sheet(tmp_path):
    path = make_workbook(tmp_path / "c.xlsx", second_sheet=True)
    with open_rows(path, "c.xlsx", sheet="Accounts") as table:
        assert [r.values for r in table] == [{"公司名称": "星辰科技", "行业": "软件"}]
    with pytest.raises(FileFormatError) as e:
        open_rows(path, "c.xlsx", sheet="Nope")
    assert e.value.params == {"sheet": "Nope"}


def test_xlsx_detected_by_content_whatever_the_name(tmp_path):
    path = make_workbook(tmp_path / "c.xlsx")
    with open(path, "rb") as f, open_rows(f, "upload.csv") as table:
        assert table.format == "xlsx" and len(list(table)) == 3


def test_damaged_xlsx(tmp_path):
    data = (make_workbook(tmp_path / "c.xlsx")).read_bytes()
    for broken in (data[: len(data) // 2], b"PK\x03\x04garbage"):
        with pytest.raises(FileFormatError, match="Excel"):
            list(open_rows(io.BytesIO(broken), "c.xlsx"))


def test_xlsx_with_broken_sheet_xml(tmp_path):
    good = zipfile.ZipFile(make_workbook(tmp_path / "c.xlsx"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bad:
        for info in good.infolist():
            content = good.read(info)
            if info.filename.endswith("sheet1.xml"):
                content = content[: content.index(b"<row r=\"4\"") + 20]  # cut in the middle of row 4
            bad.writestr(info, content)
    with pytest.raises(FileFormatError, match="Excel"):
        list(open_rows(io.BytesIO(out.getvalue()), "c.xlsx"))


def test_cell_text():
    assert cell_text(None) == "" and cell_text(True) == "TRUE" and cell_text(3.0) == "3"
    assert cell_text(1.5) == "1.5" and cell_text(dt.time(8, 5)) == "08:05:00"
