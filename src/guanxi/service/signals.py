"""Hooks other apps listen to, so the service desk need not know its channels (email, chat …).

`reply_added(ticket, message, actor)` is sent inside the transaction that stored an agent's public reply;
a channel that sends it out registers its delivery with `transaction.on_commit`.

`ticket_activity(ticket, created)` is sent inside the transaction that filed a new ticket (any channel) or stored
a customer's message on one: the contact centre's inbox tells the agents' consoles after commit.

`ticket_moved(ticket, before)` is sent inside the transaction that changed a ticket's status, assignee or queue
(an agent's action, the customer writing again, an automatic answer, a re-routing sweep); `before` holds the old
`status`, `owner_id` and `queue_id`, so that consoles that showed the ticket under its old state hear of it too.
"""

from django.dispatch import Signal

reply_added = Signal()
ticket_activity = Signal()
ticket_moved = Signal()
