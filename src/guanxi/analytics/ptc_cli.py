r"""Target customers for a product (propensity to buy it), from a CSV file of purchases; no database.

guanxi analytics ptc --transactions lines.csv --product P-100 --top 50 \
    [--customer-col customer] [--product-col product] [--date-col date] [--amount-col amount] \
    [--as-of YYYY-MM-DD] [--include-buyers] [--format csv|json] [--output ranking.csv]

One row per purchase (an order line): customer and product, and optionally its date and amount, which
give the RFM features of the logistic model (see guanxi.analytics.ptc). Writes the top customers (rank,
customer, score, similarity score, the products that drove it) and says on stderr how it ranked them.
"""

from __future__ import annotations

import argparse
import sys

HELP = "target customers for a product: propensity to buy it, with reasons"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transactions", required=True, metavar="FILE.csv", help="CSV file, one row per purchase")
    p.add_argument("--product", required=True, metavar="P", help="the product to find customers for")
    p.add_argument("--top", type=int, default=50, metavar="N", help="how many customers (default 50)")
    p.add_argument("--customer-col", default="customer", metavar="C", help="column of the customer (default customer)")
    p.add_argument("--product-col", default="product", metavar="P", help="column of the product (default product)")
    p.add_argument("--date-col", default="date", metavar="D",
                   help="column of the date, used when present (default date)")
    p.add_argument("--amount-col", default="amount", metavar="A",
                   help="column of the amount, used when present (default amount)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="end of the period analysed; default: the last date")
    p.add_argument("--include-buyers", action="store_true", help="also rank customers who already bought it")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--output", metavar="FILE", help="default: standard output")


def run(args: argparse.Namespace) -> int:
    import pandas as pd  # here, not at the top: `guanxi --help` should not wait for pandas

    from guanxi.analytics.cli_io import today
    from guanxi.analytics.errors import AnalyticsInputError
    from guanxi.analytics.ptc import PurchaseMatrix, propensity, rfm_features
    from guanxi.analytics.tables import encoding_of, read_table, write_rows
    from guanxi.analytics.transactions import read_transactions

    if args.top < 1:
        raise AnalyticsInputError("--top: give a number of customers of at least 1")
    header = pd.read_csv(args.transactions, nrows=0, encoding=encoding_of(args.transactions)).columns
    optional = [c for c in (args.date_col, args.amount_col) if c in header]
    table = read_table(args.transactions, [args.customer_col, args.product_col, *optional])
    features = None
    if args.date_col in optional:
        amount = args.amount_col if args.amount_col in optional else None
        tx = read_transactions(table, args.customer_col, args.date_col, amount, args.as_of, today(), first_line=2)
        features = rfm_features(tx.customers[tx.codes], tx.days, tx.amounts, tx.as_of)
    matrix = PurchaseMatrix.from_pairs(table[args.customer_col], table[args.product_col])
    result = propensity(matrix, args.product, features=features, top=args.top, include_buyers=args.include_buyers)
    rows = [{"rank": i + 1, "customer": r.customer, "score": r.score, "cf_score": r.cf_score,
             "bought": bool(r.bought),
             "reasons": "; ".join(f"{p} ({w:g})" for p, w in r.reasons) if args.format == "csv" else
             [{"product": p, "similarity": w} for p, w in r.reasons]}
            for i, r in enumerate(result.table.itertuples(index=False))]
    headers = ["rank", "customer", "score", "cf_score", "reasons"] + (["bought"] if args.include_buyers else [])
    write_rows(rows, headers, args.format, args.output)
    how = ("a logistic model on item similarity and RFM" if result.method == "model"
           else "item similarity (collaborative filtering)")
    print(f"{len(rows):,} of {len(matrix.customers):,} customers for product {args.product}, "
          f"{result.buyers:,} buyers: ranked by {how}", file=sys.stderr)
    return 0
