"""Mainland China's official public holidays and make-up working days (调休), as an editable data file.

Why a data file and not a library at run time: the State Council publishes each year's arrangement only
in the late autumn before, so the calendar must be editable by an administrator (add next year, add a
company's own days off) without a new release. The seed data in data/cn_holidays.json was produced from
the well-kept `chinesecalendar` package (MIT, module `chinese_calendar`, which transcribes the official
notices) by `python -m guanxi.service.holidays_cn --regenerate` with that package installed; Guanxi reads
only the JSON, so the package is not a dependency.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path
from typing import Any

from guanxi.service.business_time import Calendar

__all__ = ["DATA_FILE", "china_calendar", "load_cn_holidays"]

DATA_FILE = Path(__file__).with_name("data") / "cn_holidays.json"


def load_cn_holidays() -> dict[str, Any]:
    """The seed data: {"source", "years": [first, last], "holidays": {date: name}, "workdays": {date: name}}."""
    text = resources.files("guanxi.service").joinpath("data/cn_holidays.json").read_text(encoding="utf-8")
    return json.loads(text)


def china_calendar(timezone: str = "Asia/Shanghai", base: Calendar | None = None) -> Calendar:
    """Standard hours (09:00–12:00, 13:30–18:00, Monday to Friday) with the official holidays and make-up days."""
    data = load_cn_holidays()
    data["timezone"] = timezone
    return Calendar.from_dict(data, base=base)


def build_from_chinese_calendar() -> dict[str, Any]:
    """The data file's content, from the `chinese_calendar` module (installed only to regenerate)."""
    import chinese_calendar  # noqa: PLC0415 - optional, only for regeneration

    holidays = {d.isoformat(): name for d, name in sorted(chinese_calendar.holidays.items())}
    workdays = {d.isoformat(): name for d, name in sorted(chinese_calendar.workdays.items())}
    years = sorted({int(d[:4]) for d in holidays})
    return {
        "source": f"chinesecalendar {chinese_calendar.__version__} (MIT), from the State Council's notices",
        "years": [years[0], years[-1]],
        "holidays": holidays,
        "workdays": workdays,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="rewrite the data file from chinese_calendar")
    args = parser.parse_args(argv)
    if args.regenerate:
        data = build_from_chinese_calendar()
        DATA_FILE.parent.mkdir(exist_ok=True)
        DATA_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{DATA_FILE}: {len(data['holidays'])} holidays, {len(data['workdays'])} make-up days, "
              f"{data['years'][0]}–{data['years'][1]}")
    else:
        data = load_cn_holidays()
        print(json.dumps({k: data[k] for k in ("source", "years")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
