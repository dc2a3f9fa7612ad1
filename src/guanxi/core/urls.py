from django.urls import path

from . import customfield_views, notification_views, token_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.search_suggest, name="search_suggest"),
    path("views/save/", views.saved_view_save, name="saved_view_save"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("settings/tokens/", token_views.token_list, name="token_list"),
    path("settings/tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("notifications/", notification_views.notification_list, name="notification_list"),
    path("notifications/read/", notification_views.notification_read, name="notification_read"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/rebuild-search/", views.job_rebuild_search, name="job_rebuild_search"),
    path("jobs/<uuid:pk>/", views.job_progress, name="job_progress"),
    path("settings/custom-fields/", customfield_views.customfield_list, name="customfield_list"),
    path("settings/custom-fields/new/", customfield_views.customfield_edit, name="customfield_create"),
    path("settings/custom-fields/<int:pk>/", customfield_views.customfield_edit, name="customfield_edit"),
    path("settings/custom-fields/<int:pk>/active/", customfield_views.customfield_active, name="customfield_active"),
]
