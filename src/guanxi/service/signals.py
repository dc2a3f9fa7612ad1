"""Hooks other apps listen to, so the service desk need not know its channels (email, chat …).

`reply_added(ticket, message, actor)` is sent inside the transaction that stored an agent's public reply;
a channel that sends it out registers its delivery with `transaction.on_commit`.
"""

from django.dispatch import Signal

reply_added = Signal()
