"""Hooks other apps listen to, so the service desk need not know its channels (email, chat …).

`reply_added(ticket, message, actor)` is sent inside the transaction that stored an agent's public reply;
a channel that sends it out registers its delivery with `transaction.on_commit`.

`ticket_activity(ticket, created)` is sent inside the transaction that filed a new ticket (any channel) or stored
a customer's message on one: the contact centre's inbox tells the agents' consoles after commit.
"""

from django.dispatch import Signal

reply_added = Signal()
ticket_activity = Signal()
ticket_moved = Signal()
