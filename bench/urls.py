from django.http import JsonResponse
from django.urls import path

from guanxi.customers.api_rows import CONTACT_COLUMNS
from guanxi.customers.models import Contact
from guanxi.urls import urlpatterns as guanxi_urls


def bare_values(request):
    """The baseline: the same 50 rows, with the same columns, as the API's first page, from a plain
    values() query with no auth, access rules, related lists or schema."""
    rows = list(Contact.objects.order_by("-id").values(*CONTACT_COLUMNS)[:50])
    return JsonResponse({"items": rows, "next": None})


urlpatterns = [path("bench/bare", bare_values), *guanxi_urls]
