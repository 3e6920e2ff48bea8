from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "recoverybridge.accounts"
    verbose_name = _("Accounts and access")


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site (accounts.admin_site): INSTALLED_APPS lists this instead."""

    default = False  # not the accounts app's own config
    default_site = "recoverybridge.accounts.admin_site.StaffAdminSite"
