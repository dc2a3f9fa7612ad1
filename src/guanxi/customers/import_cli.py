"""`guanxi import FILE --type contact|account|lead`: the same import as the UI, run in this process."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="CSV (UTF-8 or GBK/GB18030), .xlsx or vCard file")
    p.add_argument("--type", choices=("contact", "account", "lead", "contacts", "accounts", "leads"),
                   default="contact", dest="target", help="what the rows are (leads: the assignment rules give "
                                                          "them owners; matched by email by default)")
    p.add_argument("--mapping", help="JSON file: {column header: field or null}; unknown headers are guessed")
    p.add_argument("--match", default="", help="update records with the same email, phone, external_id or "
                                               "custom.<key> instead of creating them")
    p.add_argument("--user", default="admin", help="who imports (and owns the new records); default admin")
    p.add_argument("--dry-run", action="store_true", help="check every row and print the counts; write nothing")


def cmd_import(args: argparse.Namespace) -> int:
    from django.core.exceptions import PermissionDenied, ValidationError

    from guanxi.core.models import User

    from . import import_services as imports
    from .fileio import apply_template

    args.target = args.target.rstrip("s")  # --type leads
    user = User.objects.filter(username=args.user, is_active=True).first()
    if user is None:
        print(f"no active user named {args.user!r}", file=sys.stderr)
        return 2
    try:
        with open(args.file, "rb") as fh:
            imp = imports.upload(user, args.target, fh, args.file)
        mapping = imp.mapping
        if args.mapping:
            with open(args.mapping, encoding="utf-8") as fh:
                template = json.load(fh)
            if not isinstance(template, dict):
                print("the mapping file must hold a JSON object {header: field}", file=sys.stderr)
                return 2
            mapping = apply_template(imp.headers, template, args.target, imports.custom_labels(args.target))
        imports.set_mapping(user, imp, mapping, args.match or imp.match_key)
        if args.dry_run:
            counts = imports.dry_run(user, imp)
            print(f"{counts['rows']} rows: {counts['new']} new, {counts['update']} updates, {counts['reject']} "
                  f"rejected, {counts['flag']} possible duplicates (dry run: nothing written)")
            imports.remove_file(imp)
            imp.delete()
            return 0
        result = imports.run_import(imp.pk, on_chunk=lambda n, c: print(f"  {(n + 1) * imports.CHUNK} rows …",
                                                                          file=sys.stderr, flush=True))
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except PermissionDenied as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"import {result.pk}: {result.rows} rows, {result.created} created, {result.updated} updated, "
          f"{result.rejected} rejected, {result.flagged} possible duplicates")
    if result.rejected or result.flagged:
        path = imports.save_rejected(result, imports.import_dir() / f"import-{result.pk}-rejected.csv")
        print(f"rejected and flagged rows: {path}")
    return 0
