"""Pages of the contact centre: each channel adds its own patterns."""

from django.urls import path

from . import chat_views, visitor_views

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
]
