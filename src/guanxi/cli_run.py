"""Long-running and data subcommands of `guanxi`: demo, serve, worker."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Registered by guanxi.cli; each command's function imports Django only when run."""
