from django.contrib import admin
from django.urls import include, path, register_converter

from recoverybridge.api import api
from recoverybridge.converters import RecordId
from recoverybridge.workspace.views import SignInView

# Before the apps' URLconfs are included: they name records as <id:...>.
register_converter(RecordId, "id")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("recoverybridge.accounts.urls")),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("sms/", include("recoverybridge.messaging.urls")),
    path("staff/evaluation/", include("recoverybridge.evaluation.urls")),
    path("staff/", include("recoverybridge.workspace.urls")),
    path("staff/", include("recoverybridge.care.urls")),
    path("staff/", include("recoverybridge.rights.urls")),
    path("", include("recoverybridge.outcomes.urls")),
    path("", include("recoverybridge.directory.urls")),
]

# Our own error pages (workspace.errors): styled and translated, with a way on.
handler400 = "recoverybridge.workspace.errors.bad_request"
handler403 = "recoverybridge.workspace.errors.permission_denied"
handler404 = "recoverybridge.workspace.errors.page_not_found"
handler500 = "recoverybridge.workspace.errors.server_error"
