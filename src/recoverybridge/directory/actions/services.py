"""Services that are not meetings, kept from HSDS feeds (called inside `imports.import_feed`).

One HSDS id is one service, upserted: a record whose fingerprint is unchanged is
not written again; a service its feed no longer lists is marked so (`listed`),
never deleted. Runs inside the import's transaction, so a refused feed changes
no service either.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recoverybridge.directory import bulk
from recoverybridge.directory.feeds import normalise
from recoverybridge.directory.feeds.records import ServiceRecord
from recoverybridge.directory.models import FeedSource, Service, ServiceCategory

LIMITS = {field.name: field.max_length for field in Service._meta.concrete_fields if field.max_length}
# Rewrite every service on the next import when the way records become rows changes.
SERVICE_RULES_VERSION = "1"


@dataclass
class ServiceCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0


def fingerprint_of(record: ServiceRecord) -> str:
    return hashlib.sha256(f"{SERVICE_RULES_VERSION}\n{record!r}".encode()).hexdigest()


def _clip(name: str, value: str) -> str:
    limit = LIMITS.get(name)
    return value[:limit] if limit else value


def service_fields(record: ServiceRecord) -> dict[str, Any]:
    place = record.location
    url = record.url if normalise.usable_url(record.url) else ""
    email = record.email if "@" in record.email and " " not in record.email.strip() else ""
    values: dict[str, Any] = {
        "category": record.category if record.category in ServiceCategory.values else ServiceCategory.OTHER,
        "name": record.name,
        "alternate_name": record.alternate_name,
        "description": record.description,
        "organization_hsds_id": record.organization_id,
        "organization_name": record.organization_name,
        "status": record.status,
        "url": url if len(url) <= (LIMITS["url"] or 0) else "",
        "email": email.strip(),
        "phones": record.phones,
        "schedules": record.schedules,
        "taxonomy": record.taxonomy,
        "languages": record.languages,
        "location_hsds_id": record.location_id,
        "location_name": place.name if place else "",
        "address": place.address if place else "",
        "city": place.city if place else "",
        "state": place.state if place else "",
        "postal_code": place.postal_code if place else "",
        "country": place.country if place else "",
        "region": place.regions[0] if place and place.regions else "",
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "source_updated": record.source_updated,
    }
    return {name: _clip(name, value) if isinstance(value, str) else value for name, value in values.items()}


def keep_services(source: FeedSource, records: list[ServiceRecord], now: datetime) -> ServiceCounts:
    """Upsert the feed's services by HSDS id; mark this source's services it left out as unlisted."""
    counts = ServiceCounts()
    wanted = {record.hsds_id: record for record in records}  # the parser keeps ids unique
    known = {
        row["hsds_id"]: row
        for row in Service.objects.filter(hsds_id__in=list(wanted)).values(
            "id", "hsds_id", "fingerprint", "feed_source_id", "listed"
        )
    }
    creating: list[dict[str, Any]] = []
    updating: list[dict[str, Any]] = []
    seen: list[int] = []
    for hsds_id, record in wanted.items():
        fingerprint = fingerprint_of(record)
        row = known.get(hsds_id)
        if row is None:
            creating.append(
                {
                    "hsds_id": _clip("hsds_id", hsds_id),
                    "feed_source_id": source.pk,
                    **service_fields(record),
                    "fingerprint": fingerprint,
                    "first_seen": now,
                    "last_seen": now,
                    "listed": True,
                }
            )
        elif row["fingerprint"] == fingerprint and row["feed_source_id"] == source.pk and row["listed"]:
            counts.unchanged += 1
            seen.append(row["id"])
        else:
            updating.append(
                {
                    "id": row["id"],
                    "feed_source_id": source.pk,
                    **service_fields(record),
                    "fingerprint": fingerprint,
                    "last_seen": now,
                    "listed": True,
                }
            )
    if updating:
        bulk.update(Service, [name for name in updating[0] if name != "id"], updating)
    bulk.insert(Service, creating)
    Service.objects.filter(id__in=seen).update(last_seen=now)
    counts.created, counts.updated = len(creating), len(updating)
    counts.gone = (
        Service.objects.filter(feed_source=source, listed=True)
        .exclude(hsds_id__in=list(wanted))
        .update(listed=False, last_seen=now)
    )
    return counts
