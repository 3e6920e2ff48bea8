"""Who may do what: a user's roles come from memberships of teams."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PEER_WORKER = "peer_worker", _("Peer worker")
    CLINICIAN = "clinician", _("Clinician")
    TEAM_MANAGER = "team_manager", _("Team manager")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    COMMISSIONER = "commissioner", _("Commissioner")
    DIRECTORY_EDITOR = "directory_editor", _("Directory editor")
    ADMINISTRATOR = "administrator", _("Administrator")
    # A member of a fellowship (or a recovery organisation's peer) who offers to be a temporary
    # contact: sees only their own introductions (volunteers app).
    VOLUNTEER = "volunteer", _("Volunteer member")
    # Vets and activates the volunteers of their organisation, watches their load, reads safety reports.
    VOLUNTEER_COORDINATOR = "volunteer_coordinator", _("Volunteer coordinator")


class Membership(models.Model):
    """A user works in a team with a role; one user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey("organisations.Team", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "team", "role"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.team}"
