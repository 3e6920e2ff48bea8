"""Organisations and their teams: the ground every staff-facing app stands on.

A treatment service, a GP practice, a probation office or a recovery community organisation
is an Organisation; people work in its Teams (`accounts.Membership` says who, with which
role). Care records belong to a team; referrals go to an organisation; commissioners see the
organisations of their area.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from recoverybridge.organisations.zones import validate_time_zone

ZONE_HELP = _("An IANA time zone such as Europe/London. Leave empty to use the site's.")
TEAM_ZONE_HELP = _("An IANA time zone such as Europe/London. Leave empty to use the organisation's.")


class OrganisationKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment service")
    PRIMARY_CARE = "primary_care", _("Primary care")
    CRIMINAL_JUSTICE = "criminal_justice", _("Criminal justice")
    HOUSING = "housing", _("Housing")
    PEER_RECOVERY = "peer_recovery", _("Peer or recovery organisation")
    COMMISSIONER = "commissioner", _("Commissioner")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=OrganisationKind.choices)
    area = models.CharField(_("area"), max_length=120, blank=True)
    # Where the organisation works: the default zone of its teams and of the people on their caseloads.
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, help_text=ZONE_HELP, validators=[validate_time_zone]
    )
    # SHA-256 of the organisation's API token for updating its referrals' tasks;
    # the token itself is shown once and never stored.
    api_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def zone_name(self) -> str:
        return self.time_zone or settings.TIME_ZONE


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=200)
    area = models.CharField(_("area"), max_length=120, blank=True)
    # For a team working somewhere else than the rest of its organisation; empty: the organisation's.
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, help_text=TEAM_ZONE_HELP, validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="unique_team_name")]

    def __str__(self) -> str:
        return f"{self.organisation.name} — {self.name}"

    @property
    def zone_name(self) -> str:
        """The IANA zone the team works in: its own, its organisation's, or the site's."""
        return self.time_zone or self.organisation.zone_name
