from django.urls import path

from . import pipeline_views, views

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
    path("settings/pipelines/", pipeline_views.pipeline_list, name="pipeline_list"),
    path("settings/pipelines/new/", pipeline_views.pipeline_create, name="pipeline_create"),
    path("settings/pipelines/<int:pk>/", pipeline_views.pipeline_detail, name="pipeline_detail"),
    path("settings/pipelines/<int:pk>/default/", pipeline_views.pipeline_default, name="pipeline_default"),
    path("settings/pipelines/<int:pk>/delete/", pipeline_views.pipeline_delete, name="pipeline_delete"),
    path("settings/pipelines/<int:pk>/stages/", pipeline_views.stage_add, name="stage_add"),
    path("settings/pipelines/<int:pk>/stages/<int:stage_id>/", pipeline_views.stage_edit, name="stage_edit"),
    path("settings/pipelines/<int:pk>/stages/<int:stage_id>/move/", pipeline_views.stage_move, name="stage_move"),
    path("settings/pipelines/<int:pk>/stages/<int:stage_id>/delete/", pipeline_views.stage_delete,
         name="stage_delete"),
]
