"""Pages of the contact centre: each channel adds its own patterns."""

from django.urls import path

from . import email_views

app_name = "contact_center"
urlpatterns: list = [
    path("settings/mailboxes/", email_views.mailbox_list, name="mailbox_list"),
    path("settings/mailboxes/new/", email_views.mailbox_edit, name="mailbox_create"),
    path("settings/mailboxes/<int:pk>/edit/", email_views.mailbox_edit, name="mailbox_edit"),
    path("settings/mailboxes/<int:pk>/", email_views.mailbox_health, name="mailbox_health"),
    path("settings/mailboxes/<int:pk>/sync/", email_views.mailbox_sync, name="mailbox_sync"),
    path("settings/mailboxes/<int:pk>/reconcile/", email_views.mailbox_reconcile, name="mailbox_reconcile"),
    path("tickets/<int:ticket_id>/email/", email_views.ticket_email_panel, name="ticket_email"),
    path("email/attachments/<int:pk>/", email_views.attachment_download, name="email_attachment"),
]
