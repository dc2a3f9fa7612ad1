from django.http import JsonResponse
from django.urls import path

from guanxi.customers.models import Contact
from guanxi.urls import urlpatterns as guanxi_urls

FIELDS = ("id", "name", "title", "phone", "email", "owner_id", "primary_account_id", "updated_at", "version")


def bare_values(request):
    """The baseline: the same 50 rows as the API's first page, with no auth, access rules or schema."""
    rows = list(Contact.objects.order_by("-id").values(*FIELDS)[:50])
    return JsonResponse({"items": rows, "next": None})


urlpatterns = [path("bench/bare", bare_values), *guanxi_urls]
