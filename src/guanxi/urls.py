from django.contrib import admin
from django.urls import include, path

from guanxi.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("guanxi.core.urls")),
    path("", include("guanxi.customers.urls")),
]
