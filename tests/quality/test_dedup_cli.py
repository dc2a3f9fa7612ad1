"""`guanxi dedup` on CSV files, in-process; no database."""

from __future__ import annotations

import csv

import pytest

from guanxi.cli import main
from tests.quality.test_dedup import _people


def _write(path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _chinese_file(path, encoding: str = "utf-8") -> None:
    rows = [{"编号": p["id"], "姓名": p["name"], "手机": p["phone"], "出生日期": p["birthday"], "备注": "x"}
            for p in _people(150)]
    rows += [
        {"编号": "a", "姓名": "王小明", "手机": "13800138000", "出生日期": "1990-03-04", "备注": ""},
        {"编号": "b", "姓名": "汪晓明", "手机": "138 0013 8000", "出生日期": "1990/4/3", "备注": "老客户"},
    ]
    _write(path, rows, encoding)


def _read(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_dedup_guesses_chinese_headers_and_writes_pairs(tmp_path, capsys, encoding):
    source, out = tmp_path / "contacts.csv", tmp_path / "pairs.csv"
    _chinese_file(source, encoding)
    assert main(["dedup", "--input", str(source), "--id-column", "编号", "--output", str(out)]) == 0
    rows = _read(out)
    assert list(rows[0]) == ["id_1", "id_2", "score", "weight", "姓名", "手机", "出生日期"]  # 备注 not compared
    assert {(r["id_1"], r["id_2"]) for r in rows} == {("a", "b")}
    assert float(rows[0]["score"]) >= 0.9
    assert (rows[0]["姓名"], rows[0]["手机"], rows[0]["出生日期"]) == ("close", "exact", "close")
    assert "152 rows" in capsys.readouterr().err


def test_dedup_with_fields_and_threshold(tmp_path):
    source, out = tmp_path / "contacts.csv", tmp_path / "pairs.csv"
    _chinese_file(source)
    code = main(["dedup", "--input", str(source), "--id-column", "编号", "--output", str(out),
                 "--fields", "姓名:name,手机:phone", "--threshold", "0"])
    assert code == 0
    rows = _read(out)
    assert list(rows[0]) == ["id_1", "id_2", "score", "weight", "姓名", "手机"]
    assert (rows[0]["id_1"], rows[0]["id_2"]) == ("a", "b")  # best first
    assert len(rows) > 1  # threshold 0: every compared pair
    scores = [float(r["weight"]) for r in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("args", "message"), [
    (["--input", "{dir}/missing.csv", "--id-column", "编号"], "no such file"),
    (["--input", "{dir}/contacts.csv", "--id-column", "id"], "no id column 'id'"),
    (["--input", "{dir}/contacts.csv", "--id-column", "编号", "--fields", "邮箱:email"], "no column '邮箱'"),
    (["--input", "{dir}/contacts.csv", "--id-column", "编号", "--fields", "姓名:nickname"], "unknown kind 'nickname'"),
    (["--input", "{dir}/contacts.csv", "--id-column", "编号", "--fields", "姓名"], "is not column:kind"),
    (["--input", "{dir}/contacts.csv", "--id-column", "编号", "--threshold", "1.5"], "between 0 and 1"),
    (["--input", "{dir}/binary.csv", "--id-column", "编号"], "cannot be read"),
    (["--input", "{dir}/dupids.csv", "--id-column", "id"], "appears twice"),
    (["--input", "{dir}/nokinds.csv", "--id-column", "id"], "no column with a known kind"),
])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, args, message):
    _chinese_file(tmp_path / "contacts.csv")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "dupids.csv").write_text("id,name\n1,张伟\n1,李娜\n", encoding="utf-8")
    (tmp_path / "nokinds.csv").write_text("id,备注\n1,x\n2,y\n", encoding="utf-8")
    argv = ["dedup", *(a.format(dir=tmp_path) for a in args), "--output", str(tmp_path / "pairs.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "pairs.csv").exists()


def test_missing_required_option_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["dedup", "--input", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 2
    assert "--id-column" in capsys.readouterr().err
