from django.contrib import admin
from django.urls import include, path

from recoverybridge.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("recoverybridge.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("staff/evaluation/", include("recoverybridge.evaluation.urls")),
    path("staff/", include("recoverybridge.workspace.urls")),
    path("staff/", include("recoverybridge.care.urls")),
    path("staff/", include("recoverybridge.rights.urls")),
    path("", include("recoverybridge.outcomes.urls")),
    path("", include("recoverybridge.directory.urls")),
]
