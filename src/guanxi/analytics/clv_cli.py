r"""Customer lifetime value of a transactions file: BG/NBD or Pareto/NBD with Gamma-Gamma spend.

guanxi analytics clv --transactions orders.csv --customer-col 客户 --date-col 日期 --amount-col 金额 \
    [--as-of 2026-06-30] [--model bgnbd|pareto] [--horizon-months 12] [--discount-rate 0.01] \
    [--format text|json] [--output predictions.csv]

Prints the fitted parameters with their standard errors and the log-likelihood; with --output, writes
per customer: frequency, recency and T (days), monetary_value, p_alive, expected purchases and the
expected average spend over the horizon, and the discounted CLV.
Bad input (one customer only, a missing column, a negative amount, a date after today) is refused with
the problem named on stderr (exit code 2); a fit that does not converge says so (exit code 1).
"""

from __future__ import annotations

import argparse
import json
import sys

from guanxi.analytics.cli_io import add_transaction_arguments, read_transactions_file, write_table
from guanxi.analytics.errors import AnalyticsInputError

MODELS = ("bgnbd", "pareto")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_transaction_arguments(p, as_of_required=False)
    p.add_argument("--model", choices=MODELS, default="bgnbd", help="purchase model; default bgnbd")
    p.add_argument("--horizon-months", type=int, default=12, help="months of future value; default 12")
    p.add_argument("--discount-rate", type=float, default=0.01, help="monthly discount rate; default 0.01")
    p.add_argument("--format", choices=["text", "json"], default="text", help="of the fitted parameters")
    p.add_argument("--output", metavar="FILE.csv", help="per-customer predictions (CSV)")


def _text(fit) -> str:
    lines = [f"{fit.model}: {fit.n_customers} customers, log-likelihood {fit.log_likelihood:.4f}"]
    lines += [f"  {name:<6} {value:12.6g}  (SE {fit.standard_errors[name]:.4g})" for name, value in fit.params.items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from guanxi.analytics import clv

    if args.horizon_months < 1:
        raise AnalyticsInputError("--horizon-months must be at least 1")
    if not 0 <= args.discount_rate < 1:
        raise AnalyticsInputError("--discount-rate is a monthly rate between 0 and 1, e.g. 0.01")
    tx = read_transactions_file(args, "a lifetime-value model is fitted across customers")
    summary = clv.summary_from_arrays(tx)
    x, t_x, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    if (age == 0).all():
        raise AnalyticsInputError("every customer's first purchase is on the as-of date: nothing to fit")
    summary = summary[age > 0]  # customers first seen on the as-of date have no history yet
    fitter = clv.fit_bgnbd if args.model == "bgnbd" else clv.fit_pareto_nbd
    purchases = fitter(summary["frequency"], summary["recency"], summary["T"])
    spend = clv.fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    horizon = args.horizon_months * clv.PERIODS_PER_MONTH["D"]
    table = clv.predict(purchases, summary, horizon)
    table["expected_average_value"] = spend.expected_average_value(summary["frequency"], summary["monetary_value"])
    table["clv"] = clv.customer_lifetime_value(
        purchases,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        table["expected_average_value"],
        args.horizon_months,
        args.discount_rate,
    )
    table = summary.join(table).reset_index()
    if args.output:
        write_table(table, args.output, "csv")
    report = {
        "purchases": purchases.fit.as_dict(),
        "spend": spend.fit.as_dict(),
        "horizon_months": args.horizon_months,
        "discount_rate": args.discount_rate,
        "customers": len(table),
        "total_clv": float(np.sum(table["clv"])),
    }
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(_text(purchases.fit))
        print(_text(spend.fit))
        print(
            f"{len(table)} customers, total CLV over {args.horizon_months} months "
            f"(discount {args.discount_rate:g}/month): {report['total_clv']:,.2f}"
        )
    if args.output:
        print(f"predictions → {args.output}", file=sys.stderr)
    return 0
