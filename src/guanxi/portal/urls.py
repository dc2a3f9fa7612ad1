from django.urls import path

from . import account_views, kb_views, survey_views, ticket_views

app_name = "portal"

urlpatterns = [
    path("portal/", ticket_views.home, name="home"),
    path("portal/signup/", account_views.signup, name="signup"),
    path("portal/verify/<str:token>/", account_views.verify, name="verify"),
    path("portal/login/", account_views.login, name="login"),
    path("portal/logout/", account_views.logout, name="logout"),
    path("portal/password-reset/", account_views.reset_request, name="reset_request"),
    path("portal/password-reset/<str:token>/", account_views.reset_confirm, name="reset_confirm"),
    path("portal/tickets/new/", ticket_views.ticket_new, name="ticket_new"),
    path("portal/tickets/suggestions/", ticket_views.suggestions, name="suggestions"),
    path("portal/tickets/solved/", ticket_views.solved, name="solved"),
    path("portal/tickets/<int:pk>/", ticket_views.ticket_detail, name="ticket_detail"),
    path("portal/tickets/<int:pk>/reply/", ticket_views.ticket_reply, name="ticket_reply"),
    path("portal/files/<int:pk>/", ticket_views.attachment, name="attachment"),
    path("portal/kb/", kb_views.kb, name="kb"),
    path("portal/kb/<int:pk>/", kb_views.article, name="article"),
    path("portal/kb/<int:pk>/feedback/", kb_views.feedback, name="feedback"),
    path("portal/survey/<str:token>/", survey_views.survey, name="survey"),
]
