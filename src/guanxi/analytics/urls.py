from django.urls import path

from . import chart_views, kpi_views, ptc_views, score_views

app_name = "analytics"

urlpatterns = [
    path("analytics/", score_views.grid_page, name="grid"),
    path("analytics/cells/<str:cell>/", score_views.cell_page, name="cell"),
    path("analytics/accounts/", score_views.score_list, name="accounts"),
    path("analytics/orders/", score_views.order_list, name="orders"),
    path("analytics/playbooks/<int:pk>/run/", score_views.playbook_run, name="playbook_run"),
    path("analytics/playbooks/<int:pk>/accounts/", score_views.playbook_accounts, name="playbook_accounts"),
    path("analytics/playbooks/<int:pk>/edit/", score_views.playbook_edit, name="playbook_edit"),
    path("analytics/score/", score_views.score_start, name="score_start"),
    path("analytics/quotes/<int:pk>/cross-sell/", score_views.quote_cross_sell, name="quote_cross_sell"),
    path("analytics/charts/<str:name>/", chart_views.chart_page, name="chart"),
    path("analytics/kpis/", kpi_views.dashboard_page, name="kpis"),
    path("analytics/kpis/<str:key>/target/", kpi_views.target_set, name="kpi_target"),
    path("analytics/products/<int:pk>/targets/", ptc_views.ptc_page, name="ptc"),
    path("analytics/products/<int:pk>/targets/tasks/", ptc_views.ptc_tasks, name="ptc_tasks"),
    path("analytics/products/<int:pk>/targets/tag/", ptc_views.ptc_tag, name="ptc_tag"),
    path("analytics/products/<int:pk>/targets.csv", ptc_views.ptc_csv, name="ptc_csv"),
]
