from django.urls import path

from . import approval_views, health_views, views

app_name = "quality"

urlpatterns = [
    path("quality/duplicates/", views.duplicate_list, name="duplicate_list"),
    path("quality/duplicates/scan/", views.duplicate_scan, name="duplicate_scan"),
    path("quality/duplicates/<int:pk>/", views.duplicate_compare, name="duplicate_compare"),
    path("quality/merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("quality/merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("quality/possible-duplicates/<str:kind>/", views.possible_duplicates, name="possible_duplicates"),
    path("quality/health/", health_views.data_health, name="data_health"),
    path("quality/changes/", approval_views.change_request_list, name="change_requests"),
    path("quality/changes/<int:pk>/", approval_views.change_request_detail, name="change_request"),
    path("quality/changes/<int:pk>/<str:action>/", approval_views.change_request_decide,
         name="change_request_decide"),
    path("quality/field-rules/", approval_views.field_rule_settings, name="field_rules"),
    path("quality/field-rules/<str:kind>/", approval_views.field_rule_settings, name="field_rules"),
]
