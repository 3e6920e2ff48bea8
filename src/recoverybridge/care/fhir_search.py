"""Task search that never pretends (FHIR R4 search.html).

Supported: `_id`, `_lastUpdated` (eq, gt, lt, ge, le; repeat it for a range), `status`, `owner`,
`requester`; results: `_count` (0 gives the total alone; at most MAX_COUNT), `_offset`,
`_summary=count|false`, `_total` (the total is always counted). Any other parameter, or a
modifier such as `status:not`, is a 400 OperationOutcome; with `Prefer: handling=lenient` it is
left out instead, the `self` link says so by leaving it out too, and the Bundle carries a warning.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from recoverybridge.care import fhir
from recoverybridge.care.fhir_http import GENERAL_PARAMETERS, FhirError, operation_outcome
from recoverybridge.care.models import Referral, TaskStatus

SEARCH_PARAMETERS = {
    "_id": (
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
        "The Task's id; several with commas.",
    ),
    "_lastUpdated": (
        "date",
        "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
        "When the Task last changed, with eq, gt, lt, ge or le; give it twice for a range.",
    ),
    "status": (
        "token",
        "http://hl7.org/fhir/SearchParameter/Task-status",
        "One Task status or several with commas.",
    ),
    "owner": (
        "reference",
        "http://hl7.org/fhir/SearchParameter/Task-owner",
        "The receiving organisation: Organization/{id}.",
    ),
    "requester": (
        "reference",
        "http://hl7.org/fhir/SearchParameter/Task-requester",
        "The referring organisation: Organization/{id}.",
    ),
}
RESULT_PARAMETERS = frozenset({"_count", "_offset", "_summary", "_total"})
DEFAULT_COUNT = 50
MAX_COUNT = 200
MAX_OFFSET = 1_000_000
PREFIXES = frozenset({"eq", "gt", "lt", "ge", "le"})
DATE = re.compile(
    r"(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(?P<fraction>\.\d{1,6})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


@dataclass
class TaskSearch:
    """A parsed search: the filter, the page, the parameters used (for the self link) and the
    warnings for what was left out."""

    condition: Q = field(default_factory=Q)
    count: int = DEFAULT_COUNT
    offset: int = 0
    summary_count: bool = False
    used: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def apply(self, referrals: QuerySet[Referral]) -> QuerySet[Referral]:
        return referrals.filter(self.condition)

    def link(self, base: str, offset: int | None = None) -> str:
        """This search's URL (at another offset); parameters in the order given."""
        pairs = [(name, value) for name, value in self.used if name != "_offset"]
        pairs.append(("_count", str(self.count)))
        at = self.offset if offset is None else offset
        if at:
            pairs.append(("_offset", str(at)))
        return f"{base}Task?{urlencode(pairs, safe=':,|/')}"


def lenient(request: HttpRequest) -> bool:
    """Prefer: handling=lenient (FHIR's default here is strict)."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "handling" and value.strip().strip('"').lower() == "lenient":
            return True
    return False


def _values(name: str, raw: str) -> list[str]:
    return [value.strip() for value in raw.split(",") if value.strip()]


def _statuses(raw: str) -> Q:
    wanted = []
    for value in _values("status", raw):
        system, bar, code = value.rpartition("|")
        if bar and system not in ("", fhir.TASK_STATUS_SYSTEM):
            raise FhirError(
                400, "value", f"status codes come from {fhir.TASK_STATUS_SYSTEM}.", expression="status"
            )
        if code not in TaskStatus.values:
            raise FhirError(400, "value", f"Unknown Task status {code!r}.", expression="status")
        wanted.append(code)
    return Q(status__in=wanted)


def _ids(raw: str) -> Q:
    # An id that cannot be ours matches nothing; it is no error.
    return Q(pk__in=[int(value) for value in _values("_id", raw) if value.isdecimal() and len(value) <= 18])


def _organisation_ids(raw: str, base: str) -> list[int]:
    found = []
    for value in _values("reference", raw):
        if value.startswith(base):
            value = value[len(base) :]
        kind, _, pk = value.rpartition("/")
        if kind in ("", "Organization") and pk.isdecimal() and len(pk) <= 18:
            found.append(int(pk))
    return found


def _bounds(value: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The instants a date of some precision covers, [start, end)."""
    match = DATE.fullmatch(value)
    if match is None:
        raise ValueError(value)
    parts = match.groupdict()
    zone = parts["zone"]
    if parts["hour"] is not None and zone is None:
        tz: datetime.tzinfo = timezone.get_current_timezone()
    elif zone in (None, "Z"):
        tz = datetime.UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        tz = datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))
    year, month, day = int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1)
    hour, minute, second = int(parts["hour"] or 0), int(parts["minute"] or 0), int(parts["second"] or 0)
    micro = int((parts["fraction"] or ".0")[1:].ljust(6, "0"))
    start = datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    if parts["month"] is None:
        end = start.replace(year=year + 1)
    elif parts["day"] is None:
        end = start.replace(year=year + month // 12, month=month % 12 + 1)
    elif parts["hour"] is None:
        end = start + datetime.timedelta(days=1)
    elif parts["second"] is None:
        end = start + datetime.timedelta(minutes=1)
    elif parts["fraction"] is None:
        end = start + datetime.timedelta(seconds=1)
    else:
        end = start + datetime.timedelta(microseconds=1)
    return start, end


def _last_updated(raw: str) -> Q:
    prefix, value = (raw[:2], raw[2:]) if raw[:2].isalpha() else ("eq", raw)
    if prefix not in PREFIXES:
        raise FhirError(
            400,
            "not-supported",
            f"_lastUpdated takes the prefixes eq, gt, lt, ge and le, not {prefix!r}.",
            expression="_lastUpdated",
        )
    try:
        start, end = _bounds(value)
    except (ValueError, OverflowError):
        raise FhirError(
            400,
            "value",
            f"_lastUpdated {raw!r} is not a date such as 2024-05-01 or 2024-05-01T10:00:00Z.",
            expression="_lastUpdated",
        ) from None
    return {
        "eq": Q(updated_at__gte=start, updated_at__lt=end),
        "gt": Q(updated_at__gte=end),
        "lt": Q(updated_at__lt=start),
        "ge": Q(updated_at__gte=start),
        "le": Q(updated_at__lt=end),
    }[prefix]


def _whole_number(name: str, raw: str) -> int:
    if not raw.isdecimal() or len(raw) > 9:
        raise FhirError(400, "value", f"{name} takes a whole number from 0.", expression=name)
    return int(raw)


def parse(parameters: Iterable[tuple[str, str]], *, base: str, lenient: bool) -> TaskSearch:
    """The search the parameters ask for; a FhirError for what cannot be done."""
    search = TaskSearch()
    for name, raw in parameters:
        if name in GENERAL_PARAMETERS:
            continue
        if name not in SEARCH_PARAMETERS and name not in RESULT_PARAMETERS:
            reason = (
                f"The search parameter {name!r} is not supported"
                + (" (no modifiers are)" if ":" in name else "")
                + "; see the CapabilityStatement at metadata."
            )
            if not lenient:
                raise FhirError(400, "not-supported", reason, expression=name)
            search.warnings.append((name, reason + " It was left out of this search."))
            continue
        raw = raw.strip()
        if not raw:
            continue  # an empty parameter asks for nothing (FHIR: ignored)
        if name == "_count":
            search.count = min(_whole_number(name, raw), MAX_COUNT)  # FHIR lets a server return fewer
            continue  # the links show the count used
        if name == "_offset":
            search.offset = _whole_number(name, raw)
            if search.offset > MAX_OFFSET:
                raise FhirError(400, "value", f"_offset takes at most {MAX_OFFSET}.", expression=name)
            continue
        if name == "_summary":
            if raw not in ("count", "false"):
                raise FhirError(400, "not-supported", "_summary takes count or false.", expression="_summary")
            search.summary_count = raw == "count"
        elif name == "_total":
            if raw not in ("none", "estimate", "accurate"):
                raise FhirError(400, "value", "_total takes none, estimate or accurate.", expression="_total")
        elif name == "_id":
            search.condition &= _ids(raw)
        elif name == "status":
            search.condition &= _statuses(raw)
        elif name == "_lastUpdated":
            search.condition &= _last_updated(raw)
        elif name == "owner":
            search.condition &= Q(target_organisation_id__in=_organisation_ids(raw, base))
        else:
            search.condition &= Q(team__organisation_id__in=_organisation_ids(raw, base))
        search.used.append((name, raw))
    return search


def warning_outcome(search: TaskSearch) -> dict[str, Any] | None:
    if not search.warnings:
        return None
    return operation_outcome(("warning", "not-supported", message, name) for name, message in search.warnings)
