"""`guanxi analytics affinity`: association rules ("bought together") from a CSV file, no database."""

from __future__ import annotations

import argparse
import sys
import time

from guanxi.analytics.errors import AnalyticsInputError

HELP = 'association rules ("bought together") from baskets or order lines'


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--baskets",
        required=True,
        metavar="FILE.csv",
        help="one basket per line, items separated by commas; or, with --basket-col and "
        "--item-col, a table of order lines with a header row",
    )
    p.add_argument("--basket-col", help="column of the basket (order) id in a table of order lines")
    p.add_argument("--item-col", help="column of the item (product) in a table of order lines")
    p.add_argument("--min-support", type=float, required=True, help="least share of baskets, in (0, 1]")
    p.add_argument("--min-confidence", type=float, required=True, help="least confidence, in (0, 1]")
    p.add_argument("--max-len", type=int, default=10, help="most items in a rule (default 10, as arules)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--output", help="file to write the rules to (default: standard output)")


def _set(items: frozenset) -> str:
    return "{" + ",".join(sorted(map(str, items))) + "}"  # as arules prints an itemset


def run(args: argparse.Namespace) -> int:
    # pandas and scikit-learn load here, not when any `guanxi` command builds its parser
    from guanxi.analytics.affinity import RULE_COLUMNS, Baskets, association_rules, frequent_itemsets
    from guanxi.analytics.tables import read_baskets, read_table, write_rows

    started = time.perf_counter()
    if bool(args.basket_col) != bool(args.item_col):
        raise AnalyticsInputError("--basket-col and --item-col go together")
    if args.basket_col:
        table = read_table(args.baskets, [args.basket_col, args.item_col])
        baskets = Baskets.from_pairs(table[args.basket_col].to_numpy(), table[args.item_col].to_numpy())
    else:
        baskets = Baskets.from_lists(read_baskets(args.baskets))
    itemsets = frequent_itemsets(baskets, args.min_support, args.max_len)
    rules = association_rules(itemsets, args.min_confidence)
    records = rules.to_dict("records")
    if args.format == "csv":
        for r in records:
            r["antecedent"], r["consequent"] = _set(r["antecedent"]), _set(r["consequent"])
    write_rows(records, RULE_COLUMNS, args.format, args.output)
    print(
        f"{baskets.n:,} baskets, {len(baskets.labels):,} items: {len(itemsets):,} frequent itemsets, "
        f"{len(rules):,} rules ({time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    return 0
