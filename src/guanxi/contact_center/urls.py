"""Pages of the contact centre: each channel adds its own patterns."""

from django.urls import path

from . import chat_views, email_kb_views, email_views, form_public, form_views, inbox_views, visitor_views

app_name = "contact_center"
urlpatterns: list = [
    path("cc/widget.js", visitor_views.widget_js, name="widget_js"),
    path("cc/track", visitor_views.track, name="track"),
    path("cc/inbox/", inbox_views.inbox_home, name="inbox"),
    path("cc/inbox/list/", inbox_views.inbox_list, name="inbox_list"),
    path("cc/inbox/<slug:source>/<int:pk>/", inbox_views.inbox_open, name="inbox_open"),
    path("cc/inbox/ticket/<int:pk>/reply/", inbox_views.ticket_reply, name="inbox_ticket_reply"),
    path("cc/inbox/chat/<int:pk>/reply/", inbox_views.chat_reply, name="inbox_chat_reply"),
    path("cc/inbox/chat/<int:pk>/ticket/", inbox_views.chat_ticket, name="inbox_chat_ticket"),
    path("cc/inbox/chat/<int:pk>/lead/", inbox_views.chat_lead, name="inbox_chat_lead"),
    path("cc/inbox/chat/<int:pk>/link/", inbox_views.chat_link, name="inbox_chat_link"),
    path("cc/console/", chat_views.console, name="console"),
    path("cc/console/<int:pk>/", chat_views.conversation_pane, name="conversation"),
    path("cc/console/<int:pk>/ticket/", chat_views.make_ticket, name="conversation_ticket"),
    path("cc/console/<int:pk>/lead/", chat_views.make_lead, name="conversation_lead"),
    path("cc/sites/", chat_views.site_list, name="site_list"),
    path("cc/sites/new/", chat_views.site_edit, name="site_create"),
    path("cc/sites/<int:pk>/", chat_views.site_edit, name="site_edit"),
    path("settings/mailboxes/", email_views.mailbox_list, name="mailbox_list"),
    path("settings/mailboxes/auto-answers/", email_kb_views.auto_answers, name="auto_answers"),
    path("settings/mailboxes/new/", email_views.mailbox_edit, name="mailbox_create"),
    path("settings/mailboxes/<int:pk>/edit/", email_views.mailbox_edit, name="mailbox_edit"),
    path("settings/mailboxes/<int:pk>/", email_views.mailbox_health, name="mailbox_health"),
    path("settings/mailboxes/<int:pk>/sync/", email_views.mailbox_sync, name="mailbox_sync"),
    path("settings/mailboxes/<int:pk>/reconcile/", email_views.mailbox_reconcile, name="mailbox_reconcile"),
    path("f/<str:key>/", form_public.public_form, name="webform_public"),
    path("f/<str:key>/token", form_public.public_token, name="webform_token"),
    path("settings/web-forms/", form_views.form_list, name="webform_list"),
    path("settings/web-forms/new/", form_views.form_edit, name="webform_create"),
    path("settings/web-forms/<int:pk>/", form_views.form_detail, name="webform_detail"),
    path("settings/web-forms/<int:pk>/edit/", form_views.form_edit, name="webform_edit"),
    path("settings/web-forms/<int:pk>/delete/", form_views.form_delete, name="webform_delete"),
    path("web-forms/<int:pk>/submissions/", form_views.form_submissions, name="webform_submissions"),
    path("tickets/<int:ticket_id>/email/", email_views.ticket_email_panel, name="ticket_email"),
    path("tickets/<int:ticket_id>/email/suggestion/", email_kb_views.suggestion_text, name="suggestion_text"),
    path("email/attachments/<int:pk>/", email_views.attachment_download, name="email_attachment"),
]
