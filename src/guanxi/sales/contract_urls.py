"""Contracts, deliveries, payment plans and payments, receivables, exchange rates."""

from django.urls import path

from . import contract_views, payment_views

urlpatterns = [
    path("sales/orders/<int:pk>/deliveries/", payment_views.delivery_record, name="delivery_record"),
    path("sales/<str:kind>s/<int:pk>/plan/", payment_views.plan_set, name="plan_set"),
    path("sales/<str:kind>s/<int:pk>/plan/edit/", payment_views.plan_edit, name="plan_edit"),
    path("sales/<str:kind>s/<int:pk>/payments/", payment_views.payment_record, name="payment_record"),
    path("sales/<str:kind>s/<int:pk>/instalments/<int:instalment_id>/invoice/", payment_views.invoice_set,
         name="invoice_set"),
    path("sales/contracts/", contract_views.contract_list, name="contract_list"),
    path("sales/contracts/new/", contract_views.contract_edit, name="contract_create"),
    path("sales/contracts/<int:pk>/", contract_views.contract_detail, name="contract_detail"),
    path("sales/contracts/<int:pk>/edit/", contract_views.contract_edit, name="contract_edit"),
    path("sales/contracts/<int:pk>/<str:action>/", contract_views.contract_action, name="contract_action"),
    path("sales/receivables/", payment_views.receivables_page, name="receivables"),
    path("settings/currency-rates/", payment_views.currency_rates, name="currency_rates"),
]
