"""What an import would do to a source's meetings, before it does it: added, changed field by
field, dropped. A fetch whose difference is too large is held for an editor with it
(directory/actions/sources.py); read-only, it writes nothing.

It reads the source's meetings as they are and prepares the feed's records exactly as the import
pipeline would (`imports.prepare`), comparing only records whose fingerprint changed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.conf import settings

from recoverybridge.directory.actions import imports
from recoverybridge.directory.feeds.records import ParsedFeed
from recoverybridge.directory.models import Attribute, FeedSource, Location, Meeting, MeetingSource

# Meeting fields compared, in the order the review shows them.
MEETING_FIELDS = (
    "name",
    "group_name",
    "weekday",
    "start_time",
    "end_time",
    "timezone",
    "attendance_mode",
    "conference_url",
    "conference_phone",
    "website",
    "notes",
    "status",
)
LOCATION_FIELDS = ("name", "formatted_address", "latitude", "longitude")
# How many entries of each kind the stored difference keeps (the counts are always whole).
DIFF_LIMIT = 1000


@dataclass
class ImportPlan:
    active_before: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    rejected: int = 0
    total: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "active_before": self.active_before,
            "added": len(self.added),
            "changed": len(self.changed),
            "dropped": len(self.dropped),
            "unchanged": self.unchanged,
        }

    def diff(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "added": self.added[:DIFF_LIMIT],
            "changed": self.changed[:DIFF_LIMIT],
            "dropped": self.dropped[:DIFF_LIMIT],
        }

    def hold_reason(self) -> str:
        """Why this import must wait for an editor, or "" when it may go ahead.

        Never on a source's first import (nothing to lose), nor when the import pipeline will
        refuse the feed anyway (too many records unusable: that is a failure, not a hold).
        """
        if not self.active_before or not self.total:
            return ""
        if self.rejected / self.total > settings.FEED_MAX_REJECTED_SHARE:
            return ""
        least = settings.FEED_HOLD_MIN_MEETINGS
        dropped, changed = len(self.dropped), len(self.changed)
        dropped_share = dropped / self.active_before
        if dropped >= least and dropped_share > settings.FEED_HOLD_DROPPED_SHARE:
            return (
                f"it would drop {dropped} of the source's {self.active_before} meetings "
                f"({dropped_share:.0%}, more than the {settings.FEED_HOLD_DROPPED_SHARE:.0%} allowed)"
            )
        changed_share = changed / self.active_before
        if changed >= least and changed_share > settings.FEED_HOLD_CHANGED_SHARE:
            return (
                f"it would change {changed} of the source's {self.active_before} meetings at once "
                f"({changed_share:.0%}, more than the {settings.FEED_HOLD_CHANGED_SHARE:.0%} allowed)"
            )
        return ""


def plan_import(source: FeedSource, parsed: ParsedFeed) -> ImportPlan:
    plan = ImportPlan(total=parsed.total)
    known: dict[str, dict[str, Any]] = {
        row["source_key"]: dict(row)
        for row in MeetingSource.objects.filter(feed_source=source).values(
            "source_key", "meeting_id", "fingerprint", "active"
        )
    }
    plan.active_before = sum(1 for row in known.values() if row["active"])
    if not plan.active_before:
        return plan  # a first import (or a source whose meetings all left): nothing to hold
    vocabulary = imports.load_vocabulary(source)
    outcome = imports.Outcome(errors=[{"key": r.key, "reason": r.reason} for r in parsed.rejections])
    prepared: list[tuple[imports.PreparedMeeting, dict[str, Any] | None]] = []
    for record in parsed.records:
        fingerprint = imports.fingerprint_of(record, vocabulary.digest)
        row = known.get(record.source_key)
        if row and row["active"] and row["fingerprint"] == fingerprint:
            plan.unchanged += 1
            continue
        one = imports.prepare(record, fingerprint, source, vocabulary, outcome)
        if one is not None:
            prepared.append((one, row))
    plan.rejected = len(outcome.errors)

    current = current_meetings([row["meeting_id"] for _, row in prepared if row])
    names = attribute_names(
        {attribute for one, _ in prepared for attribute in one.attribute_ids}
        | {attribute for meeting in current.values() for attribute in meeting["attributes"]}
    )
    for one, row in prepared:
        if row is None:
            plan.added.append(summary(one.key, one.meeting))
            continue
        before = current.get(row["meeting_id"])
        changes = differences(before, one, names) if before else []
        if changes:
            plan.changed.append({**summary(one.key, one.meeting), "fields": changes})
        else:
            plan.unchanged += 1  # written again (new rules or vocabulary) but the same to a reader

    present = {record.source_key for record in parsed.records}
    rejected = {error["key"] for error in outcome.errors}
    gone = [
        row
        for key, row in known.items()
        if row["active"] and key not in present and not {key, imports.DAY_SUFFIX.sub("", key)} & rejected
    ]
    dropped = current_meetings([row["meeting_id"] for row in gone])
    for row in gone:
        meeting = dropped.get(row["meeting_id"])
        if meeting:
            plan.dropped.append(summary(row["source_key"], meeting))
    plan.dropped.sort(
        key=lambda entry: (entry["weekday"] is None, entry["weekday"] or 0, entry["start_time"])
    )
    return plan


def summary(key: str, meeting: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "name": meeting["name"],
        "weekday": meeting["weekday"],
        "start_time": show(meeting["start_time"]),
    }


def current_meetings(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The meetings' compared fields, their place and attributes, a few queries per 500."""
    found: dict[int, dict[str, Any]] = {}
    for batch in imports.chunks(sorted(set(ids)), imports.BATCH):
        for row in Meeting.objects.filter(id__in=batch).values("id", "location_id", *MEETING_FIELDS):
            found[row["id"]] = {**row, "attributes": set(), "location": None}
        through = Meeting.attributes.through
        for meeting_id, attribute_id in through.objects.filter(meeting_id__in=batch).values_list(
            "meeting_id", "attribute_id"
        ):
            found[meeting_id]["attributes"].add(attribute_id)
        places = {found[i]["location_id"] for i in batch if i in found and found[i]["location_id"]}
        located = {
            row["id"]: row for row in Location.objects.filter(id__in=places).values("id", *LOCATION_FIELDS)
        }
        for meeting_id in batch:
            if meeting_id in found:
                found[meeting_id]["location"] = located.get(found[meeting_id]["location_id"])
    return found


def attribute_names(ids: set[int]) -> dict[int, str]:
    return dict(Attribute.objects.filter(id__in=ids).values_list("id", "name"))


def differences(
    before: dict[str, Any], after: imports.PreparedMeeting, names: dict[int, str]
) -> list[dict[str, Any]]:
    """[{"field", "before", "after"}] for every field a reader would see change."""
    changes = []
    for name in MEETING_FIELDS:
        old, new = before[name], after.meeting[name]
        if old != new and not (old in (None, "") and new in (None, "")):
            changes.append({"field": name, "before": show(old), "after": show(new)})
    old_place = before["location"] or {}
    new_place = after.location or {}
    for name in LOCATION_FIELDS:
        old, new = old_place.get(name), new_place.get(name)
        if isinstance(old, float) and isinstance(new, float) and round(old, 5) == round(new, 5):
            continue
        if old != new and not (old in (None, "") and new in (None, "")):
            changes.append({"field": f"location.{name}", "before": show(old), "after": show(new)})
    old_kinds = sorted(names.get(i, str(i)) for i in before["attributes"])
    new_kinds = sorted(names.get(i, str(i)) for i in after.attribute_ids)
    if old_kinds != new_kinds:
        changes.append({"field": "attributes", "before": ", ".join(old_kinds), "after": ", ".join(new_kinds)})
    return changes


def show(value: Any) -> Any:
    """A JSON value as the review shows it: times as "19:30", everything else as it is."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value
