"""`guanxi analytics <name>`: the analyses on a CSV file, without Django or a database.

Each analysis is a module with `add_arguments(parser)` and `run(args) -> int`, listed in COMMANDS;
`add_parser` builds one subcommand per entry. Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from guanxi.analytics import affinity_cli, churn_cli, clv_cli, ptc_cli, rfm_cli
from guanxi.analytics.errors import AnalyticsInputError, ConvergenceError

COMMANDS: dict[str, ModuleType] = {"rfm": rfm_cli, "clv": clv_cli, "affinity": affinity_cli, "churn": churn_cli,
                                  "ptc": ptc_cli}


def _runner(name: str, module: ModuleType):
    def run(args: argparse.Namespace) -> int:
        try:
            return module.run(args)
        except AnalyticsInputError as e:
            print(f"guanxi analytics {name}: {e}", file=sys.stderr)
            return 2
        except ConvergenceError as e:
            print(f"guanxi analytics {name}: {e}", file=sys.stderr)
            return 1

    return run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `analytics` with one subcommand per entry of COMMANDS (file-only: no Django set-up)."""
    parser = subparsers.add_parser(
        "analytics", help="RFM, lifetime value, churn risk, product affinity and target customers on a CSV file"
    )
    sub = parser.add_subparsers(dest="analysis", required=True)
    for name, module in COMMANDS.items():
        doc = (module.__doc__ or name).strip().splitlines()[0]
        p = sub.add_parser(
            name, help=doc, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        module.add_arguments(p)
        p.set_defaults(func=_runner(name, module), django=False)
