from django.contrib import admin
from django.urls import include, path, register_converter
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from recoverybridge.api import api
from recoverybridge.converters import RecordId
from recoverybridge.directory import bmlt_views
from recoverybridge.workspace.views import SignInView

# Before the apps' URLconfs are included: they name records as <id:...>.
register_converter(RecordId, "id")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # BMLT's semantic API (read side), where NA's tools look for a root server's.
    path("main_server/client_interface/<str:kind>/", bmlt_views.client_interface, name="bmlt"),
    # Without a CSRF token: the language form is on every public page, and a token would make
    # each page this visitor's alone (no shared cache, no 304). A forged post can only switch
    # the visitor's language, which every page lets them switch back; `next` stays on this site.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("accounts/", include("recoverybridge.accounts.urls")),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("sms/", include("recoverybridge.messaging.urls")),
    path("staff/evaluation/", include("recoverybridge.evaluation.urls")),
    path("staff/", include("recoverybridge.workspace.urls")),
    path("staff/", include("recoverybridge.care.urls")),
    path("staff/", include("recoverybridge.rights.urls")),
    path("", include("recoverybridge.volunteers.urls")),
    path("", include("recoverybridge.outcomes.urls")),
    path("", include("recoverybridge.directory.urls")),
]

# Our own error pages (workspace.errors): styled and translated, with a way on.
handler400 = "recoverybridge.workspace.errors.bad_request"
handler403 = "recoverybridge.workspace.errors.permission_denied"
handler404 = "recoverybridge.workspace.errors.page_not_found"
handler500 = "recoverybridge.workspace.errors.server_error"
