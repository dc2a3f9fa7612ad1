"""`guanxi sales-summary`: check the monthly summaries of opportunities and orders and the orders per account
(sales/summary.py) against the opportunities and orders, or rebuild them.
Imported before Django is set up: the summary module is imported inside the command."""

from __future__ import annotations

import argparse
import json
import sys


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sales-summary",
                       help="check the monthly summaries of opportunities and orders and the orders per account "
                            "against them, or rebuild them")
    p.add_argument("--rebuild", action="store_true", help="make them again from the opportunities and orders (after "
                                                          "changing GUANXI_TIME_ZONE; `guanxi migrate` does that too)")
    p.set_defaults(func=cmd_sales_summary)


def cmd_sales_summary(args: argparse.Namespace) -> int:
    """Print the differences (JSON, one a line) and exit 1 if there are any; with --rebuild, rebuild and say how
    many summary rows there are."""
    from django.conf import settings

    from guanxi.sales import summary

    if args.rebuild:
        print(f"{summary.rebuild()} summary rows, months in {settings.TIME_ZONE}")
        return 0
    found = summary.differences()
    for row in found:
        print(json.dumps(row, ensure_ascii=False, default=str))
    print(f"{len(found)} differences", file=sys.stderr)
    return 1 if found else 0
