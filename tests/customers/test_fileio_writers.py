"""Streaming CSV, XLSX and rejected-rows writers of customers.fileio, read back by its readers."""

import csv
import datetime as dt
import io

import openpyxl

from guanxi.customers.fileio import csv_chunks, neutralise, open_rows, rejected_csv_chunks, write_xlsx, xlsx_chunks

HEADERS = ["姓名", "手机", "备注"]
ROWS = [
    {"姓名": "张伟", "手机": "+86 138 0013 8000", "备注": "=HYPERLINK(\"http://evil\",\"click\")"},
    {"姓名": "Alice, \"Al\" Smith", "手机": "-12.5", "备注": "@SUM(A1)\nsecond line"},
    ["李娜", None, "+cmd|' /C calc'!A0"],
]


def test_neutralise():
    assert neutralise("=1+2") == "'=1+2" and neutralise("@x") == "'@x" and neutralise("-x") == "'-x"
    assert neutralise("+86 138 0013 8000") == "+86 138 0013 8000"  # a phone number cannot run anything
    assert neutralise("-12.5") == "-12.5" and neutralise("\tx") == "'\tx"
    assert neutralise(None) == "" and neutralise(3) == "3" and neutralise("张伟") == "张伟"


def test_csv_has_bom_neutralised_cells_and_reads_back():
    data = b"".join(csv_chunks(HEADERS, ROWS))
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    with open_rows(io.BytesIO(data), "out.csv") as table:
        got = [r.values for r in table]
    assert table.headers == HEADERS
    assert got[0] == {"姓名": "张伟", "手机": "+86 138 0013 8000", "备注": "'=HYPERLINK(\"http://evil\",\"click\")"}
    assert got[1]["姓名"] == "Alice, \"Al\" Smith" and got[1]["备注"] == "'@SUM(A1)\nsecond line"
    assert got[2] == {"姓名": "李娜", "手机": "", "备注": "'+cmd|' /C calc'!A0"}


def test_csv_streams_in_chunks_with_one_bom():
    chunks = list(csv_chunks(["a"], ([f"值{i}"] for i in range(50_000))))
    assert len(chunks) > 5 and chunks[0].startswith(b"\xef\xbb\xbf")
    assert not any(c.startswith(b"\xef\xbb\xbf") for c in chunks[1:])
    assert sum(c.count(b"\n") for c in chunks) == 50_001


def test_rejected_rows_keep_the_original_columns_plus_reasons():
    rejects = [
        ({"姓名": "张伟", "手机": "123", "备注": ""}, {"手机": "不是有效的电话号码"}),
        ({"姓名": "", "手机": "", "备注": "x"}, {"姓名": ["必填", "太短"], None: "重复的行"}),
        (["李娜", "1", "2"], ["row-level message"]),
    ]
    data = b"".join(rejected_csv_chunks(HEADERS, rejects, errors_header="错误"))
    got = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert got == [
        ["姓名", "手机", "备注", "错误"],
        ["张伟", "123", "", "手机: 不是有效的电话号码"],
        ["", "", "x", "姓名: 必填; 姓名: 太短; 重复的行"],
        ["李娜", "1", "2", "row-level message"],
    ]


def test_xlsx_writer_keeps_formulas_as_text(tmp_path):
    path = tmp_path / "out.xlsx"
    rows = [*ROWS, {"姓名": "王芳\x01", "手机": 13800138000, "备注": dt.date(1990, 5, 1)}]
    assert write_xlsx(path, HEADERS, rows, title="联系人") == 4
    book = openpyxl.load_workbook(path)  # not read-only: check how Excel would see each cell
    sheet = book["联系人"]
    formula_cell = sheet["C2"]
    assert formula_cell.value == "=HYPERLINK(\"http://evil\",\"click\")" and formula_cell.data_type == "s"
    assert sheet["A5"].value == "王芳" and sheet["B5"].value == 13800138000
    with open_rows(path, "out.xlsx") as table:
        got = [r.values for r in table]
    assert got[0]["备注"] == "=HYPERLINK(\"http://evil\",\"click\")" and got[3]["备注"] == "1990-05-01"


def test_xlsx_chunks():
    data = b"".join(xlsx_chunks(["a", "b"], ([i, f"行{i}"] for i in range(1000))))
    with open_rows(io.BytesIO(data), "x.xlsx") as table:
        got = list(table)
    assert len(got) == 1000 and got[-1].values == {"a": "999", "b": "行999"}
