from django.apps import AppConfig
from django.db.models.signals import m2m_changed
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "recoverybridge.directory"
    verbose_name = _("Meeting directory")

    def ready(self) -> None:
        from recoverybridge.directory import version
        from recoverybridge.directory.models import Meeting

        # The triggers watch the meeting table; attributes changed on their own go through here.
        m2m_changed.connect(
            version.attributes_changed, sender=Meeting.attributes.through, dispatch_uid="directory_version"
        )
