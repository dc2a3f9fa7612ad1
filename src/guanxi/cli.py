"""The `guanxi` command. Each subcommand has --help."""

from __future__ import annotations

import argparse
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django
    from django.conf import settings

    settings.HOME.mkdir(parents=True, exist_ok=True)
    django.setup()


def _manage(*argv: str, **options) -> None:
    from django.core.management import call_command

    call_command(*argv, **options)


def cmd_migrate(args: argparse.Namespace) -> int:
    _manage("migrate", "--no-input", verbosity=args.verbosity)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from guanxi.core.bootstrap import ensure_admin

    username, password, created = ensure_admin(args.username, args.password)
    print(f"admin: {username} / {password}" if created else f"admin {username} exists; password unchanged")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from guanxi.core.models import User
    from guanxi.core.services import issue_token

    user = User.objects.filter(username=args.username, is_active=True).first()
    if user is None:
        print(f"no active user named {args.username!r}", file=sys.stderr)
        return 2
    print(issue_token(user, args.name))
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanxi manage", *args.rest])
    return 0


def cmd_mail_idle(args: argparse.Namespace) -> int:
    """Hold an IMAP IDLE connection per active mailbox until Ctrl-C or SIGTERM."""
    import signal
    import threading

    from guanxi.contact_center import email_idle

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    email_idle.run(stop, rescan=args.rescan)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guanxi", description="Guanxi (关系) e-CRM")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="create or update the database schema")
    p.add_argument("--verbosity", type=int, default=1)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createadmin", help="create an administrator account")
    p.add_argument("--username", default="admin")
    p.add_argument("--password", default=None, help="default: a new random password, printed once")
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("token", help="print a new API token for a user")
    p.add_argument("username")
    p.add_argument("--name", default="cli")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("manage", help="run a Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)

    p = sub.add_parser("mail-idle", help="push for email: an IMAP IDLE connection per active mailbox")
    p.add_argument("--rescan", type=float, default=60.0, help="seconds between looks for new mailboxes; default 60")
    p.set_defaults(func=cmd_mail_idle)

    from guanxi import cli_run

    cli_run.add_commands(sub)

    from guanxi.quality import dedup_cli

    p = sub.add_parser("dedup", help="duplicate pairs in a CSV file (no database needed), or --run on the database")
    dedup_cli.add_arguments(p)
    p.set_defaults(func=dedup_cli.cmd_dedup, django=False)

    from guanxi.analytics import cli as analytics_cli

    analytics_cli.add_parser(sub)

    from guanxi.customers import export_cli

    export_cli.add_command(sub)

    from guanxi.contact_center import ami

    ami.add_command(sub)

    from guanxi.sales import summary_cli

    summary_cli.add_command(sub)

    from guanxi.customers import import_cli

    p = sub.add_parser("import", help="import contacts or accounts from CSV, Excel (.xlsx) or vCard")
    import_cli.add_arguments(p)
    p.set_defaults(func=import_cli.cmd_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "django", True):  # file-only commands run without settings or a database
        _setup()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
