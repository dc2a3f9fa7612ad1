from django.urls import path

from . import import_views, record_views, share_views, views

app_name = "customers"


def _routes(kind: str, prefix: str) -> list:
    k = {"kind": kind}
    return [
        path(f"{prefix}/", views.record_list, k, name=f"{kind}_list"),
        path(f"{prefix}/bulk/", views.record_bulk, k, name=f"{kind}_bulk"),
        path(f"{prefix}/export.csv", views.record_export, k, name=f"{kind}_export"),
        path(f"{prefix}/new/", record_views.record_edit, k, name=f"{kind}_create"),
        path(f"{prefix}/<int:pk>/", record_views.record_detail, k, name=f"{kind}_detail"),
        path(f"{prefix}/<int:pk>/edit/", record_views.record_edit, k, name=f"{kind}_edit"),
        path(f"{prefix}/<int:pk>/delete/", record_views.record_delete, k, name=f"{kind}_delete"),
        path(f"{prefix}/<int:pk>/notes/", record_views.record_note, k, name=f"{kind}_note"),
        path(f"{prefix}/<int:pk>/shares/", share_views.record_share, k, name=f"{kind}_share"),
        path(f"{prefix}/<int:pk>/shares/<int:share_id>/delete/", share_views.record_unshare, k,
             name=f"{kind}_unshare"),
    ]


urlpatterns = [
    path("accounts/pick/", views.account_pick, name="account_pick"),
    *_routes("account", "accounts"),
    *_routes("contact", "contacts"),
]

# Exports in every format and printing (export_views, print_views).
from . import export_views, print_views  # noqa: E402

urlpatterns += [
    *[path(f"{prefix}/export.<slug:fmt>", views.record_export, {"kind": kind}, name=f"{kind}_export_as")
      for kind, prefix in (("account", "accounts"), ("contact", "contacts"))],
    *[path(f"{prefix}/print/", print_views.record_print, {"kind": kind}, name=f"{kind}_print")
      for kind, prefix in (("account", "accounts"), ("contact", "contacts"))],
    path("exports/<uuid:pk>/", export_views.export_job, name="export_job"),
    path("exports/<uuid:pk>/download/", export_views.export_download, name="export_download"),
    path("imports/new/", import_views.import_upload, name="import_upload"),
    path("imports/<int:pk>/mapping/", import_views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/preview/", import_views.import_preview, name="import_preview"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/undo/", import_views.import_undo, name="import_undo"),
    path("imports/<int:pk>/rejected.csv", import_views.import_rejected, name="import_rejected"),
]

# Personal-data requests (PIPL / GDPR): export and erasure of one contact.
from . import privacy_views  # noqa: E402

urlpatterns += [
    path("contacts/<int:pk>/personal-data.json", privacy_views.contact_personal_data, name="contact_personal_data"),
    path("contacts/<int:pk>/erase/", privacy_views.contact_erase, name="contact_erase"),
]

# The public pool (公海).
from . import pool_views  # noqa: E402

urlpatterns += [
    path("pool/", pool_views.pool_list, name="pool_list"),
    path("pool/claim/", pool_views.pool_claim, name="pool_claim"),
    path("pool/assign/", pool_views.pool_assign, name="pool_assign"),
    path("pool/rules/", pool_views.pool_rules, name="pool_rules"),
    path("accounts/<int:pk>/release/", pool_views.account_release, name="account_release"),
]
