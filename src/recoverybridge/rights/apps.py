from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "recoverybridge.rights"
    verbose_name = _("People's rights over their record")
