from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("kb/", views.home, name="home"),
    path("kb/search/", views.search_results, name="search"),
    path("kb/suggest/", views.suggest, name="suggest"),
    path("kb/faq/", views.faq_stats, name="faq_stats"),
    path("kb/categories/new/", views.category_create, name="category_create"),
    path("kb/articles/new/", views.article_edit, name="article_create"),
    path("kb/articles/<int:pk>/", views.article_detail, name="article_detail"),
    path("kb/articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("kb/articles/<int:pk>/status/", views.article_status, name="article_status"),
    path("kb/articles/<int:pk>/feedback/", views.article_feedback, name="article_feedback"),
    path("kb/articles/<int:pk>/versions/<int:number>/", views.version_detail, name="version_detail"),
    path("kb/articles/<int:pk>/versions/<int:number>/restore/", views.version_restore, name="version_restore"),
    path("kb/bulletins/", views.bulletin_list, name="bulletin_list"),
    path("kb/bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("kb/bulletins/<int:pk>/pin/", views.bulletin_pin, name="bulletin_pin"),
    path("kb/bulletins/<int:pk>/expire/", views.bulletin_expire, name="bulletin_expire"),
]
