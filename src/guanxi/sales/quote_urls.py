from django.urls import path

from . import catalog_views, quote_views

urlpatterns = [
    path("sales/products/", catalog_views.product_list, name="product_list"),
    path("sales/products/new/", catalog_views.product_edit, name="product_create"),
    path("sales/products/<int:pk>/", catalog_views.product_edit, name="product_edit"),
    path("sales/price-lists/", catalog_views.price_list_list, name="price_list_list"),
    path("sales/price-lists/new/", catalog_views.price_list_edit, name="price_list_create"),
    path("sales/price-lists/<int:pk>/", catalog_views.price_list_detail, name="price_list_detail"),
    path("sales/price-lists/<int:pk>/edit/", catalog_views.price_list_edit, name="price_list_edit"),
    path("sales/price-lists/<int:pk>/prices/<int:item_id>/delete/", catalog_views.price_remove, name="price_remove"),
    path("sales/quotes/", quote_views.quote_list, name="quote_list"),
    path("sales/quotes/new/", quote_views.quote_create, name="quote_create"),
    path("sales/quotes/<int:pk>/", quote_views.quote_detail, name="quote_detail"),
    path("sales/quotes/<int:pk>/edit/", quote_views.quote_edit, name="quote_edit"),
    path("sales/quotes/<int:pk>/delete/", quote_views.quote_delete, name="quote_delete"),
    path("sales/quotes/<int:pk>/pdf/", quote_views.quote_pdf_view, name="quote_pdf"),
    path("sales/quotes/<int:pk>/products/", quote_views.product_pick, name="quote_product_pick"),
    path("sales/quotes/<int:pk>/lines/", quote_views.line_add, name="quote_line_add"),
    path("sales/quotes/<int:pk>/lines/<int:line_id>/", quote_views.line_update, name="quote_line_update"),
    path("sales/quotes/<int:pk>/lines/<int:line_id>/delete/", quote_views.line_remove, name="quote_line_remove"),
    path("sales/quotes/<int:pk>/send/", quote_views.quote_send, name="quote_send"),
    path("sales/quotes/<int:pk>/revise/", quote_views.quote_revise, name="quote_revise"),
    path("sales/quotes/<int:pk>/reject/", quote_views.quote_reject, name="quote_reject"),
    path("sales/quotes/<int:pk>/accept/", quote_views.quote_accept, name="quote_accept"),
    path("sales/quotes/<int:pk>/approval/", quote_views.quote_request_approval, name="quote_request_approval"),
    path("sales/quotes/<int:pk>/approval/<int:approval_id>/", quote_views.approval_decide, name="approval_decide"),
    path("sales/orders/", quote_views.order_list, name="order_list"),
    path("sales/orders/<int:pk>/", quote_views.order_detail, name="order_detail"),
]
