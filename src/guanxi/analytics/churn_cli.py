"""`guanxi analytics churn`: cross-validated churn model on a CSV table, scores per row, no database."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "a churn model on a customer table: CV ROC AUC, scores and reasons"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, metavar="FILE.csv", help="one customer per row, with a header row")
    p.add_argument("--target", required=True, help="the column saying whether the customer left")
    p.add_argument("--positive", help="the target's value that means churn (default: yes/true/1 …)")
    p.add_argument(
        "--id-col",
        action="append",
        default=[],
        metavar="COL",
        help="an identifier column: not learnt from, copied to the scores (repeatable)",
    )
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--top", type=int, default=3, help="reasons per customer in the scores (default 3)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="of the model report")
    p.add_argument("--output", help="CSV file for every row's churn probability and top reasons")


def run(args: argparse.Namespace) -> int:
    # pandas and scikit-learn load here, not when any `guanxi` command builds its parser
    from guanxi.analytics.churn import fit_churn
    from guanxi.analytics.tables import read_table, write_rows

    table = read_table(args.data)
    model = fit_churn(table, args.target, folds=args.folds, id_columns=args.id_col, positive=args.positive)
    summary = model.summary()
    if args.output:
        scores = model.score(table, max(args.top, 0))
        ids = args.id_col or []
        scores = scores.assign(**{c: table[c] for c in ids}) if ids else scores.assign(row=range(2, len(table) + 2))
        headers = [*(ids or ["row"]), "churn_probability", "reasons"]
        write_rows(scores.to_dict("records"), headers, "csv", args.output)
        summary["output"] = args.output
    if args.format == "json":
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"cross-validated ROC AUC {summary['cv_auc']:.3f} over {args.folds} folds "
            f"({', '.join(f'{a:.3f}' for a in summary['fold_auc'])}); {summary['rows']:,} rows, "
            f"churn rate {summary['base_rate']:.1%}; Brier score {summary['brier']:.3f} "
            f"(base rate alone {summary['brier_base_rate']:.3f})"
        )
        if summary["ignored"]:
            print(f"not used: {', '.join(summary['ignored'])}", file=sys.stderr)
    return 0
