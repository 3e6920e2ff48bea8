"""IANA time zones as organisations, teams and people have them: the names a form offers, the
check a stored name passes, the country a zone lies in (for date formats) and its city.

The names and countries come from the tz database itself (the `tzdata` package, or the
system's copy), so nothing here is a hand-kept list.
"""

import zoneinfo
from functools import cache
from importlib import resources
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Continents and oceans of canonical zone names; legacy aliases ("US/Eastern", "GB", "Etc/GMT+5")
# are valid but not offered.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def available_zones() -> tuple[str, ...]:
    """Canonical zone names ("Europe/London"), sorted, with UTC first."""
    names = sorted(name for name in zoneinfo.available_timezones() if name.split("/", 1)[0] in REGIONS)
    return ("UTC", *names)


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name such as Europe/London."), params={"value": value}
        )


def _zone_table() -> str:
    try:
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        system = Path("/usr/share/zoneinfo/zone.tab")
        return system.read_text(encoding="utf-8") if system.exists() else ""


@cache
def countries() -> dict[str, str]:
    """Zone name -> ISO 3166 country code, from the tz database's zone.tab."""
    table: dict[str, str] = {}
    for line in _zone_table().splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, name, *_comment = line.split("\t")
            table[name] = code
    return table


def country_of(zone_name: str) -> str:
    """ "GB" for Europe/London; "" for UTC and zones of no one country."""
    return countries().get(zone_name, "")


def city_of(zone_name: str) -> str:
    """ "Toronto" for America/Toronto, "Buenos Aires" for America/Argentina/Buenos_Aires."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")
