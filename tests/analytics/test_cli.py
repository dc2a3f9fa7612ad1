"""`guanxi analytics rfm|clv` on CSV files, in-process; no database and no Django set-up needed."""

from __future__ import annotations

import csv
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from guanxi.analytics import simulate
from guanxi.cli import main

COLUMNS = ["--customer-col", "客户", "--date-col", "日期", "--amount-col", "金额"]


@pytest.fixture(scope="module")
def orders(tmp_path_factory):
    """800 customers' orders with Chinese headers, as Excel saves them (UTF-8 with BOM)."""
    frame = simulate.bgnbd_transactions(800, seed=11).rename(
        columns={"customer": "客户", "date": "日期", "amount": "金额"}
    )
    frame["客户"] = "KH" + frame["客户"].astype(str).str.zfill(5)
    path = tmp_path_factory.mktemp("orders") / "订单.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d", encoding="utf-8-sig")
    return path


def read(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_rfm_writes_scores_and_segments(orders, tmp_path, capsys):
    out = tmp_path / "rfm.csv"
    assert (
        main(
            ["analytics", "rfm", "--transactions", str(orders), *COLUMNS, "--as-of", "2025-12-31", "--output", str(out)]
        )
        == 0
    )
    rows = read(out)
    assert len(rows) == 800 and rows[0]["customer"] == "KH00000"
    assert {r["segment"] for r in rows} == {
        "important_value",
        "important_develop",
        "important_keep",
        "important_retain",
        "general_value",
        "general_develop",
        "general_keep",
        "general_retain",
    }
    assert all(r["r_score"] in "12345" and len(r["rfm_score"]) == 3 for r in rows)
    assert "重要价值客户 important_value" in capsys.readouterr().err


def test_rfm_json_to_stdout(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("客户,日期,金额\n001,2026-01-05,100\n002,2026-01-20,20.5\n001,2026-01-25,50\n", encoding="gb18030")
    assert (
        main(["analytics", "rfm", "--transactions", str(path), *COLUMNS, "--as-of", "2026-01-31", "--format", "json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [(r["customer"], r["recency"], r["frequency"], r["monetary"]) for r in rows] == [
        ("001", 6, 2, 150.0),
        ("002", 11, 1, 20.5),
    ]


def test_clv_prints_the_fit_and_writes_predictions(orders, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert (
        main(
            [
                "analytics",
                "clv",
                "--transactions",
                str(orders),
                *COLUMNS,
                "--as-of",
                "2025-12-31",
                "--horizon-months",
                "6",
                "--format",
                "json",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    fit = report["purchases"]
    assert fit["model"] == "bgnbd" and set(fit["params"]) == {"r", "alpha", "a", "b"}
    assert all(0 < fit["standard_errors"][k] < fit["params"][k] for k in fit["params"])
    assert fit["log_likelihood"] < 0 and report["spend"]["model"] == "gamma_gamma"
    rows = read(out)
    assert len(rows) == report["customers"] > 750
    assert set(rows[0]) >= {
        "customer",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases",
        "expected_average_value",
        "clv",
    }
    assert all(0 <= float(r["p_alive"]) <= 1 and float(r["clv"]) >= 0 for r in rows)
    assert sum(float(r["clv"]) for r in rows) == pytest.approx(report["total_clv"], rel=1e-4)


def test_clv_pareto_as_text(orders, capsys):
    assert main(["analytics", "clv", "--transactions", str(orders), *COLUMNS, "--model", "pareto"]) == 0
    text = capsys.readouterr().out
    assert "pareto_nbd" in text and "log-likelihood" in text and "beta" in text and "SE" in text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"--amount-col": "价格"}, "no column '价格'"),
        ({"--transactions": "/nonexistent/orders.csv"}, "no such file"),
        ({"--as-of": "2024-06-01"}, "after the as-of date"),
        ({"--as-of": "last tuesday"}, "not a date"),
        ({"--discount-rate": "2"}, "--discount-rate"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(orders, capsys, change, words):
    argv = {"--transactions": str(orders), "--customer-col": "客户", "--date-col": "日期", "--amount-col": "金额"}
    argv |= change
    assert main(["analytics", "clv", *[item for pair in argv.items() for item in pair]]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.startswith("guanxi analytics clv:")


def test_a_fit_that_does_not_converge_is_reported_not_printed(tmp_path, capsys):
    path = tmp_path / "t.csv"  # everyone buys every ten days to the end: no sign of anyone leaving
    lines = [f"{c},2026-01-{d:02d},10" for c in range(40) for d in range(1, 31, 10)]
    path.write_text("客户,日期,金额\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "predictions.csv"
    argv = ["analytics", "clv", "--transactions", str(path), *COLUMNS, "--as-of", "2026-01-21", "--output", str(out)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "converge" in captured.err or "identify" in captured.err
    assert captured.out == "" and captured.err.count("\n") == 1 and not out.exists()


def test_bad_csv_files(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    negative = tmp_path / "neg.csv"
    negative.write_text("客户,日期,金额\na,2026-01-01,-5\n", encoding="utf-8")
    for path, words in ((empty, "empty file"), (negative, "negative amount")):
        assert main(["analytics", "rfm", "--transactions", str(path), *COLUMNS, "--as-of", "2026-02-01"]) == 2
        assert words in capsys.readouterr().err


GOOD = "C001,2026-01-05,100\nC002,2026-01-10,20\nC001,2026-01-20,50\n"
BAD_FILES = {
    "negative amount": ("客户,日期,金额\nC001,2026-01-05,100\nC002,2026-01-10,-5\n", (), "e.g. -5 on line 3"),
    "future date": ("客户,日期,金额\nC001,2026-01-05,100\nC002,2099-01-01,50\n", (), "dated after today"),
    "as-of in the future": ("客户,日期,金额\n" + GOOD, ("--as-of", "2099-01-01"), "2099-01-01 is in the future"),
    "one customer": ("客户,日期,金额\nC001,2026-01-05,100\nC001,2026-01-20,50\n", (), "only one customer (C001)"),
    "missing column": ("客户,日期,价格\n" + GOOD, (), "no column '金额' (columns: 客户, 日期, 价格)"),
    "unreadable date": ("客户,日期,金额\n" + GOOD + "C003,someday,5\n", (), "'someday' on line 5"),
}


@pytest.mark.parametrize("command", ["rfm", "clv"])
@pytest.mark.parametrize("problem", list(BAD_FILES))
def test_a_bad_transactions_file_is_refused_in_one_line_and_nothing_is_written(tmp_path, capsys, command, problem):
    text, extra, words = BAD_FILES[problem]
    path, out = tmp_path / "orders.csv", tmp_path / "out.csv"
    path.write_text(text, encoding="utf-8")
    as_of = () if command == "clv" or extra else ("--as-of", "2026-01-31")  # rfm needs --as-of, clv does not
    argv = ["analytics", command, "--transactions", str(path), *COLUMNS, *as_of, *extra, "--output", str(out)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"guanxi analytics {command}: ") and captured.err.count("\n") == 1
    assert words in captured.err and captured.out == "" and not out.exists()


def test_the_messages_name_the_line_the_value_and_why(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GUANXI_TIME_ZONE", raising=False)  # today is the machine's
    path = tmp_path / "orders.csv"
    path.write_text("客户,日期,金额\nC001,2026-01-05,100\nC001,2026-01-20,50\n", encoding="utf-8")
    assert main(["analytics", "rfm", "--transactions", str(path), *COLUMNS, "--as-of", "2026-01-31"]) == 2
    assert capsys.readouterr().err == (
        "guanxi analytics rfm: only one customer (C001) in the file: RFM scores rank customers against each other\n"
    )
    path.write_text("客户,日期,金额\nC001,2026-01-05,100\nC002,2099-01-01,50\nC003,2099-02-01,5\n", encoding="utf-8")
    assert main(["analytics", "clv", "--transactions", str(path), *COLUMNS]) == 2
    assert capsys.readouterr().err == (
        f"guanxi analytics clv: column '日期': 2 transaction(s) dated after today ({dt.date.today().isoformat()}), "
        "e.g. 2099-01-01 on line 3\n"
    )


def test_today_is_the_company_time_zone_s_when_it_is_set(tmp_path, capsys, monkeypatch):
    ahead = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()  # UTC+14: already tomorrow almost everywhere
    path = tmp_path / "orders.csv"
    path.write_text(f"客户,日期,金额\nC001,2026-01-05,100\nC002,{ahead.isoformat()},50\n", encoding="utf-8")
    argv = ["analytics", "rfm", "--transactions", str(path), *COLUMNS, "--as-of", ahead.isoformat()]
    monkeypatch.setenv("GUANXI_TIME_ZONE", "Pacific/Kiritimati")
    assert main(argv) == 0
    capsys.readouterr()
    monkeypatch.setenv("GUANXI_TIME_ZONE", "Etc/GMT+12")  # UTC−12: a day or two behind Kiritimati
    assert main(argv) == 2
    assert "is in the future" in capsys.readouterr().err
    monkeypatch.setenv("GUANXI_TIME_ZONE", "Mars/Olympus")
    assert main(argv) == 2
    assert "GUANXI_TIME_ZONE: 'Mars/Olympus' is not a time zone" in capsys.readouterr().err
