"""On entry: a new account or contact that strongly matches an existing one is queued for review.

Runs after the transaction commits (the contact's phones, emails and companies are saved after its row),
and never makes the save fail. Bulk loads that bypass save() are left to the scan; code that saves many
records through the services can wrap itself in `entry_check_suspended()`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from guanxi.customers.models import Account, Contact

logger = logging.getLogger(__name__)
_state = threading.local()


@contextlib.contextmanager
def entry_check_suspended() -> Iterator[None]:
    previous = getattr(_state, "suspended", False)
    _state.suspended = True
    try:
        yield
    finally:
        _state.suspended = previous


def _queue(kind: str, pk: int) -> None:
    from . import services

    model = services.MODELS[kind]
    obj = model._base_manager.filter(pk=pk).first()
    if obj is None:
        return
    try:
        with transaction.atomic():
            services.record_entry_pairs(kind, obj)
    except Exception:  # a failed check must not turn a saved record into an error page
        logger.exception("on-entry duplicate check failed for %s %s", kind, pk)


def _queue_many(kind: str, pks: list[int]) -> None:
    from . import services

    try:
        with transaction.atomic():
            services.record_entry_pairs_many(kind, pks)
    except Exception:  # a failed check must not turn saved records into an error
        logger.exception("on-entry duplicate check failed for %s %s", kind, pks)


def check_after_commit(kind: str, pks: list[int]) -> None:
    """The on-entry check of records saved under `entry_check_suspended` (a batch): all of them at once, after
    the commit. `pks` may still grow until then (the batch adds the records it makes)."""
    transaction.on_commit(lambda: _queue_many(kind, pks) if pks else None)


@receiver(post_save, sender=Contact, dispatch_uid="quality.contact_entry")
@receiver(post_save, sender=Account, dispatch_uid="quality.account_entry")
def check_new_record(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw or getattr(_state, "suspended", False):
        return
    kind = "contact" if sender is Contact else "account"
    pk = instance.pk
    transaction.on_commit(lambda: _queue(kind, pk))
