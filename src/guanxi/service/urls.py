from django.urls import path

from . import canned_views, csat_views, kpi_views, nps_views, setup_views, views

app_name = "service"

urlpatterns = [
    path("service/tickets/", views.ticket_list, name="ticket_list"),
    path("service/tickets/new/", views.ticket_create, name="ticket_create"),
    path("service/tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("service/tickets/<int:pk>/messages/", views.ticket_message, name="ticket_message"),
    path("service/tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("service/tickets/<int:pk>/assign/", views.ticket_assign, name="ticket_assign"),
    path("service/tickets/<int:pk>/split/", views.ticket_split, name="ticket_split"),
    path("service/tickets/<int:pk>/merge/", views.ticket_merge, name="ticket_merge"),
    path("service/orders/<int:pk>/tickets/", views.order_tickets, name="order_tickets"),
    path("service/my-queue/", views.my_queue, name="my_queue"),
    path("service/availability/", views.availability, name="availability"),
    path("service/kpis/", kpi_views.kpi_page, name="kpis"),
    path("service/canned-replies/", canned_views.canned_list, name="canned_list"),
    path("service/canned-replies/<int:pk>/delete/", canned_views.canned_delete, name="canned_delete"),
    path("service/tickets/<int:pk>/canned/", canned_views.canned_fill, name="canned_fill"),
    path("service/csat/", csat_views.csat_report, name="csat_report"),
    path("service/nps/", nps_views.nps_list, name="nps_list"),
    path("service/nps/new/", nps_views.nps_create, name="nps_create"),
    path("service/nps/<int:pk>/", nps_views.nps_detail, name="nps_detail"),
    path("service/nps/<int:pk>/answers.csv", nps_views.nps_csv, name="nps_csv"),
    # The customer's answer page (the signed link in the survey e-mail): no log-in, beside the portal's CSAT survey.
    path("portal/nps/<str:token>/", nps_views.nps_answer, name="nps_answer"),
    path("portal/nps/<str:token>/opt-out/", nps_views.nps_opt_out, name="nps_opt_out"),
    path("service/settings/<slug:kind>/", setup_views.setting_list, name="setting_list"),
    path("service/settings/<slug:kind>/new/", setup_views.setting_edit, name="setting_create"),
    path("service/settings/<slug:kind>/<int:pk>/", setup_views.setting_edit, name="setting_edit"),
    path("service/attachments/<int:pk>/", csat_views.ticket_attachment, name="ticket_attachment"),
]
