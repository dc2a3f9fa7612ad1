"""`guanxi analytics affinity|churn` on files, in-process through guanxi.cli.main; no database."""

from __future__ import annotations

import csv
import json

import pytest

from guanxi.cli import main
from tests.analytics.datasets import GROCERIES, telco


def _read(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_affinity_on_groceries_writes_the_5668_rules(tmp_path, capsys):
    out = tmp_path / "rules.csv"
    argv = ["analytics", "affinity", "--baskets", str(GROCERIES), "--min-support", "0.001", "--min-confidence", "0.5"]
    assert main([*argv, "--output", str(out)]) == 0
    rows = _read(out)
    assert len(rows) == 5668
    assert rows[0]["antecedent"].startswith("{") and rows[0]["conviction"] == "inf"
    assert "5,668 rules" in capsys.readouterr().err


def test_affinity_on_order_lines_as_json(tmp_path, capsys):
    lines = tmp_path / "lines.csv"
    lines.write_text("订单,商品\n1,茶叶\n1,茶杯\n2,茶叶\n2,茶杯\n3,茶叶\n3,=HYPERLINK()\n4,蜂蜜\n", encoding="gb18030")
    argv = [
        "analytics",
        "affinity",
        "--baskets",
        str(lines),
        "--basket-col",
        "订单",
        "--item-col",
        "商品",
        "--min-support",
        "0.5",
        "--min-confidence",
        "0.9",
    ]
    assert main([*argv, "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert {(tuple(r["antecedent"]), tuple(r["consequent"])) for r in rules} == {(("茶杯",), ("茶叶",))}
    assert rules[0]["confidence"] == 1.0 and rules[0]["conviction"] is None  # infinite: null in JSON
    out = tmp_path / "rules.csv"
    assert main([*argv[:-4], "--min-support", "0.25", "--min-confidence", "0.3", "--output", str(out)]) == 0
    rules = _read(out)
    assert len(rules) == 4 and {"{=HYPERLINK()}", "{茶叶}"} <= {r["antecedent"] for r in rules}


def test_churn_prints_the_cv_auc_and_writes_scores(tmp_path, capsys):
    data, out = tmp_path / "telco.csv", tmp_path / "scores.csv"
    telco().iloc[:1500].to_csv(data, index=False)
    argv = ["analytics", "churn", "--data", str(data), "--target", "churn", "--id-col", "rownames", "--folds", "3"]
    assert main([*argv, "--format", "json", "--output", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cv_auc"] > 0.8 and len(report["fold_auc"]) == 3 and report["ignored"] == ["rownames"]
    scores = _read(out)
    assert len(scores) == 1500 and scores[0]["rownames"] == "1"
    assert 0 <= float(scores[0]["churn_probability"]) <= 1 and "=" in scores[0]["reasons"]


def test_churn_text_report(tmp_path, capsys):
    data = tmp_path / "small.csv"
    data.write_text(
        "客户,月消费,流失\n"
        + "".join(f"c{i},{i % 10 * 10 + i % 3},{'是' if i % 10 > 6 else '否'}\n" for i in range(60)),
        encoding="utf-8-sig",
    )
    assert (
        main(["analytics", "churn", "--data", str(data), "--target", "流失", "--id-col", "客户", "--folds", "3"]) == 0
    )
    out = capsys.readouterr()
    assert "ROC AUC 1.000 over 3 folds" in out.out and "60 rows" in out.out and "客户" in out.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["affinity", "--baskets", "{missing}", "--min-support", "0.1", "--min-confidence", "0.5"], "no such file"),
        (["affinity", "--baskets", "{empty}", "--min-support", "0.1", "--min-confidence", "0.5"], "empty file"),
        (
            ["affinity", "--baskets", "{groceries}", "--min-support", "1.5", "--min-confidence", "0.5"],
            "min support must be a number in (0, 1]",
        ),
        (
            [
                "affinity",
                "--baskets",
                "{table}",
                "--basket-col",
                "order",
                "--item-col",
                "sku",
                "--min-support",
                "0.1",
                "--min-confidence",
                "0.5",
            ],
            "no column(s) 'order', 'sku'",
        ),
        (
            [
                "affinity",
                "--baskets",
                "{table}",
                "--basket-col",
                "id",
                "--min-support",
                "0.1",
                "--min-confidence",
                "0.5",
            ],
            "--basket-col and --item-col go together",
        ),
        (["churn", "--data", "{table}", "--target", "left"], "no target column 'left'"),
        (["churn", "--data", "{table}", "--target", "churn"], "one class"),
        (["churn", "--data", "{garbage}", "--target", "churn"], "'spend' holds numbers but row 12"),
        (["churn", "--data", "{header}", "--target", "churn"], "a header but no rows"),
        (["churn", "--data", "{binary}", "--target", "churn"], "binary"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, capsys, argv, message):
    files = {
        "missing": tmp_path / "nope.csv",
        "empty": tmp_path / "empty.csv",
        "groceries": GROCERIES,
        "table": tmp_path / "table.csv",
        "garbage": tmp_path / "garbage.csv",
        "header": tmp_path / "header.csv",
        "binary": tmp_path / "binary.csv",
    }
    files["empty"].write_text("")
    files["table"].write_text("id,spend,churn\n" + "".join(f"{i},{i * 3},no\n" for i in range(30)))
    files["garbage"].write_text(
        "id,spend,churn\n"
        + "".join(f"{i},{'lots' if i == 10 else i * 3},{'yes' if i % 3 else 'no'}\n" for i in range(30))
    )
    files["header"].write_text("id,spend,churn\n")
    files["binary"].write_bytes(b"id,spend\x00\x01\x02,churn\n1,2,3\n")
    assert main(["analytics", *(a.format(**files) for a in argv)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
