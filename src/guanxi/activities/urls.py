from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("agenda/", views.agenda, name="agenda"),
    path("agenda/today/", views.today, name="today"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("sales/opportunities/<int:pk>/follow-up/", views.opportunity_followup, name="opportunity_followup"),
    path("hand-over/", views.hand_over, name="hand_over"),
    path("settings/calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
