from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "recoverybridge.directory"
    verbose_name = _("Meeting directory")

    def ready(self) -> None:
        from recoverybridge.directory import version
        from recoverybridge.directory.models import Attribute, Fellowship, Location, Meeting

        # The triggers watch the meeting table; attributes changed on their own go through here.
        m2m_changed.connect(
            version.attributes_changed, sender=Meeting.attributes.through, dispatch_uid="directory_version"
        )
        # What the public pages print beside meetings, when edited on its own (the admin).
        for model in (Location, Fellowship, Attribute):
            for signal in (post_save, post_delete):
                signal.connect(
                    version.directory_changed,
                    sender=model,
                    dispatch_uid=f"directory_version_{model.__name__}",
                )
