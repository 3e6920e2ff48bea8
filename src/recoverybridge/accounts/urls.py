from django.urls import path

from recoverybridge.accounts import views

app_name = "accounts"

urlpatterns = [
    path("two-factor/verify/", views.verify, name="verify"),
    path("two-factor/setup/", views.setup_two_factor, name="setup_two_factor"),
]
