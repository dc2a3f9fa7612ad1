"""Pages of the contact centre: each channel adds its own patterns."""

from django.urls import path

from . import call_views, chat_views, email_views, visitor_views

app_name = "contact_center"
urlpatterns: list = [
    path("cc/widget.js", visitor_views.widget_js, name="widget_js"),
    path("cc/track", visitor_views.track, name="track"),
    path("cc/console/", chat_views.console, name="console"),
    path("cc/console/<int:pk>/", chat_views.conversation_pane, name="conversation"),
    path("cc/console/<int:pk>/ticket/", chat_views.make_ticket, name="conversation_ticket"),
    path("cc/console/<int:pk>/lead/", chat_views.make_lead, name="conversation_lead"),
    path("cc/sites/", chat_views.site_list, name="site_list"),
    path("cc/sites/new/", chat_views.site_edit, name="site_create"),
    path("cc/sites/<int:pk>/", chat_views.site_edit, name="site_edit"),
    path("cc/cti/webhook/<str:key>", call_views.webhook, name="cti_webhook"),
    path("cc/cti/call/", call_views.click_to_call, name="click_to_call"),
    path("cc/calls/", call_views.call_list, name="call_list"),
    path("settings/phone/", call_views.phone_settings, name="phone_settings"),
    path("settings/phone/agents/<int:pk>/delete/", call_views.agent_phone_delete, name="agent_phone_delete"),
    path("settings/phone/pbx/new/", call_views.connection_edit, name="pbx_create"),
    path("settings/phone/pbx/<int:pk>/", call_views.connection_edit, name="pbx_edit"),
    path("settings/mailboxes/", email_views.mailbox_list, name="mailbox_list"),
    path("settings/mailboxes/new/", email_views.mailbox_edit, name="mailbox_create"),
    path("settings/mailboxes/<int:pk>/edit/", email_views.mailbox_edit, name="mailbox_edit"),
    path("settings/mailboxes/<int:pk>/", email_views.mailbox_health, name="mailbox_health"),
    path("settings/mailboxes/<int:pk>/sync/", email_views.mailbox_sync, name="mailbox_sync"),
    path("settings/mailboxes/<int:pk>/reconcile/", email_views.mailbox_reconcile, name="mailbox_reconcile"),
    path("tickets/<int:ticket_id>/email/", email_views.ticket_email_panel, name="ticket_email"),
    path("email/attachments/<int:pk>/", email_views.attachment_download, name="email_attachment"),
]
