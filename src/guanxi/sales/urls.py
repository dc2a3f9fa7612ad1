from django.urls import path

from . import views

app_name = "sales"

urlpatterns = [
    path("sales/opportunities/", views.opportunity_list, name="opportunity_list"),
    path("sales/opportunities/new/", views.opportunity_edit, name="opportunity_create"),
    path("sales/opportunities/accounts/", views.account_pick, name="account_pick"),
    path("sales/opportunities/<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("sales/opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("sales/opportunities/<int:pk>/delete/", views.opportunity_delete, name="opportunity_delete"),
    path("sales/opportunities/<int:pk>/reopen/", views.opportunity_reopen, name="opportunity_reopen"),
    path("sales/pipelines/", views.board_default, name="board_default"),
    path("sales/pipelines/<int:pk>/board/", views.board, name="board"),
    path("sales/pipelines/<int:pk>/board/<int:stage_id>/", views.board_column, name="board_column"),
    path("sales/forecast/", views.forecast, name="forecast"),
]
