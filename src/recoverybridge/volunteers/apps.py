from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "recoverybridge.volunteers"
    verbose_name = _("Volunteer members")

    def ready(self) -> None:
        # A revoked introduction consent ends the introductions it covered (care sends, we answer).
        from recoverybridge.care.actions import consent_revoked
        from recoverybridge.volunteers.actions import end_under_revoked_consent

        consent_revoked.connect(end_under_revoked_consent, dispatch_uid="volunteers.consent_revoked")
