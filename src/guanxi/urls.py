from django.contrib import admin
from django.urls import include, path

from guanxi.api import api
from guanxi.core.views import set_language

urlpatterns = [
    # Django's set_language, which also keeps the choice on the signed-in user (see core.views).
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("guanxi.core.urls")),
    path("", include("guanxi.customers.urls")),
    path("", include("guanxi.quality.urls")),
    path("", include("guanxi.sales.urls")),
    path("", include("guanxi.knowledge.urls")),
    path("", include("guanxi.service.urls")),
    path("", include("guanxi.contact_center.urls")),
    path("", include("guanxi.portal.urls")),
    path("", include("guanxi.activities.urls")),
    path("", include("guanxi.analytics.urls")),
]
