"""`guanxi export`: a list's records as CSV, XLSX or vCard on the command line, as a user sees them.

    guanxi export --type contact --format xlsx --user rep_a --output contacts.xlsx --tag VIP --filter owner=me
"""

from __future__ import annotations

import argparse
import os
import sys


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export accounts or contacts (CSV, XLSX, vCard) as a user may see them")
    p.add_argument("--type", choices=["contact", "account"], default="contact", help="default: contact")
    p.add_argument("--format", choices=["csv", "xlsx", "vcf"], default="csv", help="default: csv")
    p.add_argument("--user", required=True, help="export what this user may see (their access rules apply)")
    p.add_argument("--output", "-o", help="file to write; default: standard output")
    p.add_argument("--sort", default="id", help="row order, as in the list (id, name, -updated_at …); default id")
    p.add_argument("--q", help="search text, as in the list's search box")
    p.add_argument("--tag", action="append", default=[], help="only records with this tag (repeatable)")
    p.add_argument("--owner", action="append", default=[], help="owner id or 'me' (repeatable)")
    p.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                   help="any list filter, e.g. classification=A, updated_after=2025-01-01, custom.level=gold")
    p.set_defaults(func=cmd_export)


def _params(args: argparse.Namespace):
    from django.http import QueryDict

    params = QueryDict(mutable=True)
    if args.q:
        params["q"] = args.q
    for tag in args.tag:
        params.appendlist("tag", tag)
    for owner in args.owner:
        params.appendlist("owner", owner)
    for item in args.filter:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--filter {item!r}: expected KEY=VALUE")
        params.appendlist(key.strip(), value.strip())
    return params


def cmd_export(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from guanxi.core.models import User

    from . import export

    user = User.objects.filter(username=args.user, is_active=True).first()
    if user is None:
        print(f"no active user named {args.user!r}", file=sys.stderr)
        return 2
    try:
        params = _params(args)
        sort = export.check_sort(args.type, args.sort)
        qs = export.export_queryset(args.type, user, params)
    except (ValueError, ValidationError) as exc:
        messages = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", [str(exc)])]
        for key, msgs in messages:
            for msg in msgs:
                print(f"{key}: {msg}" if key else msg, file=sys.stderr)
        return 2
    chunks = export.chunks(args.type, args.format, export.records(args.type, qs, user, sort))
    if not args.output:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return 0
    partial = args.output + ".part"
    try:
        with open(partial, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(partial, args.output)  # a failed export leaves no half file under the real name
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
