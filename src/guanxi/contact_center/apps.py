from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactCenterConfig(AppConfig):
    name = "guanxi.contact_center"
    label = "contact_center"
    verbose_name = _("Contact centre")

    def ready(self) -> None:
        from guanxi.service.signals import reply_added, ticket_activity, ticket_moved

        from . import call_inbox, chat_timeline, form_timeline  # noqa: F401  (missed calls in the inbox; chats, page

        # views, web forms on the timeline)
        from .email_outbound import on_reply_added
        from .inbox_live import on_ticket_activity, on_ticket_moved

        reply_added.connect(on_reply_added, dispatch_uid="contact_center.email_reply")
        ticket_activity.connect(on_ticket_activity, dispatch_uid="contact_center.inbox")
        reply_added.connect(on_ticket_activity, dispatch_uid="contact_center.inbox_reply")
        ticket_moved.connect(on_ticket_moved, dispatch_uid="contact_center.inbox_moved")
