r"""RFM scores and the eight customer segments of a transactions file.

guanxi analytics rfm --transactions orders.csv --customer-col 客户 --date-col 日期 --amount-col 金额 \
    --as-of 2026-06-30 [--format csv|json] [--output rfm.csv]

Writes one row per customer (recency in days, frequency, monetary, r/f/m scores 1–5, segment code and
its Chinese and English labels) to --output or stdout, and the segment counts to stderr.
A file with one customer only, a missing column, a negative amount or a date after today is refused
with the problem named on stderr (exit code 2), and nothing is written.
"""

from __future__ import annotations

import argparse
import sys

from guanxi.analytics.cli_io import add_transaction_arguments, read_transactions_file, write_table


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_transaction_arguments(p, as_of_required=True)
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--output", metavar="FILE", help="default: standard output")


def run(args: argparse.Namespace) -> int:
    from guanxi.analytics.rfm import SEGMENTS, rfm_from_arrays

    tx = read_transactions_file(args, "RFM scores rank customers against each other")
    table = rfm_from_arrays(tx)
    write_table(table, args.output, args.format)
    counts = table["segment"].value_counts()
    for segment in SEGMENTS.values():
        print(f"{segment.zh} {segment.code}: {int(counts.get(segment.code, 0))}", file=sys.stderr)
    return 0
