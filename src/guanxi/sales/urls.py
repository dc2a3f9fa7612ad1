from django.urls import path

from . import contract_urls, lead_views, performance_views, pipeline_views, quote_urls, views

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
    path("sales/performance/", performance_views.performance_page, name="performance"),
    path("settings/quotas/", performance_views.quota_settings, name="quota_settings"),
    path("sales/leads/", lead_views.lead_list, name="lead_list"),
    path("sales/leads/new/", lead_views.lead_edit, name="lead_create"),
    path("sales/leads/<int:pk>/", lead_views.lead_detail, name="lead_detail"),
    path("sales/leads/<int:pk>/edit/", lead_views.lead_edit, name="lead_edit"),
    path("sales/leads/<int:pk>/status/", lead_views.lead_status, name="lead_status"),
    path("sales/leads/<int:pk>/convert/", lead_views.lead_convert, name="lead_convert"),
    path("settings/lead-rules/", lead_views.lead_rules, name="lead_rules"),
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
urlpatterns += quote_urls.urlpatterns  # products, price lists, quotes, orders
urlpatterns += contract_urls.urlpatterns  # contracts, deliveries, payment collection, exchange rates
