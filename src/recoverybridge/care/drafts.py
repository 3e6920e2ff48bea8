"""The referral wizard's answers, as a draft keeps them between steps (ReferralDraft.answers).

Each step reads and writes one part; `Answers.from_json` accepts whatever an older draft holds
(a missing or malformed part is its default), so a draft saved before a change of this shape
still opens.
"""

import datetime
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.models import (
    MUTUAL_AID,
    AttendancePreference,
    Barrier,
    GroupGenderPreference,
    IntroductionKind,
    Person,
    ReferralTargetKind,
    SpiritualPreference,
)
from recoverybridge.care.queries import language_name
from recoverybridge.directory.models import Approach, Fellowship

# The steps in order: facilitate (what matters, the options), link (what to, contact with a
# member), follow up (the dates), then check and send.
STEPS = ("matters", "options", "target", "contact", "follow-up", "review")
STEP_TITLES = {
    "matters": _("What matters to them"),
    "options": _("Options to try"),
    "target": _("What to refer to"),
    "contact": _("Contact with a member"),
    "follow-up": _("Follow-up"),
    "review": _("Check and send"),
}
MAX_FOLLOW_UPS = 6


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _code(value: Any, allowed: Any, default: str) -> str:
    return value if isinstance(value, str) and value in allowed.values else default


def _codes(values: Any, allowed: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    return [v for v in dict.fromkeys(values) if isinstance(v, str) and v in allowed.values]


def _ids(values: Any) -> list[int]:
    if not isinstance(values, list):
        return []
    return [v for v in dict.fromkeys(values) if isinstance(v, int) and not isinstance(v, bool)]


def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Matters:
    """What matters to the person in a group, as coded answers."""

    approaches: list[str] = field(default_factory=list)
    fellowship: str = ""  # a fellowship's slug
    spiritual: str = SpiritualPreference.NO_PREFERENCE
    language: str = "en"
    gender: str = GroupGenderPreference.ANY
    on_moud: bool = False
    attendance: str = AttendancePreference.EITHER

    @classmethod
    def of(cls, person: Person) -> "Matters":
        """What their record says, to start from."""
        return cls(
            spiritual=person.spiritual_preference,
            language=person.preferred_language,
            gender=person.group_gender_preference,
            on_moud=person.on_moud,
            attendance=person.attendance_preference,
        )

    @classmethod
    def from_json(cls, data: Any, person: Person) -> "Matters":
        if not isinstance(data, dict):
            return cls.of(person)
        start = cls.of(person)
        return cls(
            approaches=_codes(data.get("approaches"), Approach),
            fellowship=_text(data.get("fellowship"), 60),
            spiritual=_code(data.get("spiritual"), SpiritualPreference, start.spiritual),
            language=_text(data.get("language"), 8) or start.language,
            gender=_code(data.get("gender"), GroupGenderPreference, start.gender),
            on_moud=bool(data.get("on_moud", start.on_moud)),
            attendance=_code(data.get("attendance"), AttendancePreference, start.attendance),
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> list[tuple[str, str]]:
        """(what, their answer) in words, for the pages that show what mattered."""
        fellowship = Fellowship.objects.filter(slug=self.fellowship).values_list("name", flat=True).first()
        none = gettext("No preference")
        return [
            (gettext("Kinds of group"), ", ".join(str(Approach(a).label) for a in self.approaches) or none),
            (gettext("Fellowship"), fellowship or none),
            (gettext("Secular or spiritual"), str(SpiritualPreference(self.spiritual).label)),
            (gettext("Language"), language_name(self.language)),
            (gettext("Gender of group"), str(GroupGenderPreference(self.gender).label)),
            (gettext("Online or in person"), str(AttendancePreference(self.attendance).label)),
            (gettext("On MOUD"), gettext("Yes") if self.on_moud else gettext("No")),
        ]


@dataclass
class Target:
    kind: str = ""
    meeting: int | None = None
    fellowship: int | None = None
    organisation: int | None = None
    reason: str = ""

    @classmethod
    def from_json(cls, data: Any) -> "Target":
        if not isinstance(data, dict):
            return cls()
        return cls(
            kind=_code(data.get("kind"), ReferralTargetKind, ""),
            meeting=_id(data.get("meeting")),
            fellowship=_id(data.get("fellowship")),
            organisation=_id(data.get("organisation")),
            reason=_text(data.get("reason"), 2000),
        )


@dataclass
class Answers:
    matters: Matters
    barriers: list[str] = field(default_factory=list)
    barrier_note: str = ""
    # Keep what matters as their preferences on their record too, once the referral is sent.
    remember: bool = False
    presented: list[int] = field(default_factory=list)
    chosen: list[int] = field(default_factory=list)
    target: Target = field(default_factory=Target)
    introduction: str = ""  # an IntroductionKind, or none wanted
    introduction_note: str = ""
    # ISO dates; None until the worker plans them: then the defaults, counted from the day it is sent.
    follow_ups: list[str] | None = None
    # The steps saved at least once, for the step list and the check before sending.
    visited: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, person: Person) -> "Answers":
        return cls(matters=Matters.of(person))

    @classmethod
    def from_json(cls, data: Any, person: Person) -> "Answers":
        if not isinstance(data, dict):
            return cls.start(person)
        dates = data.get("follow_ups")
        return cls(
            matters=Matters.from_json(data.get("matters"), person),
            barriers=_codes(data.get("barriers"), Barrier),
            barrier_note=_text(data.get("barrier_note"), 500),
            remember=bool(data.get("remember", False)),
            presented=_ids(data.get("presented")),
            chosen=_ids(data.get("chosen")),
            target=Target.from_json(data.get("target")),
            introduction=_code(data.get("introduction"), IntroductionKind, ""),
            introduction_note=_text(data.get("introduction_note"), 255),
            follow_ups=[d for d in dates if isinstance(d, str)][:MAX_FOLLOW_UPS]
            if isinstance(dates, list)
            else None,
            visited=[s for s in _codes_of(data.get("visited")) if s in STEPS],
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def follow_up_dates(self, today: datetime.date) -> list[datetime.date]:
        """The planned dates; the default offsets from `today` while none are planned. A date
        that no longer parses is dropped (the follow-up step says so before sending)."""
        if self.follow_ups is None:
            return [today + datetime.timedelta(days=days) for days in settings.FOLLOW_UP_DAYS]
        dates = []
        for text in self.follow_ups:
            try:
                dates.append(datetime.date.fromisoformat(text))
            except ValueError:
                continue
        return sorted(set(dates))

    def problems(self, today: datetime.date, active: set[int]) -> list[tuple[str, str]]:
        """What stops it being sent: (step, what to do), in the steps' order. `active`: the ids of
        the meetings it names that are still listed."""
        found: list[tuple[str, str]] = []
        target = self.target
        if not target.kind:
            found.append(("target", gettext("Choose what to refer them to.")))
        elif target.kind == ReferralTargetKind.MEETING:
            if target.meeting is None or target.meeting not in self.chosen:
                found.append(("target", gettext("Choose one of the meetings they chose to try.")))
            elif target.meeting not in active:
                found.append(("target", gettext("That meeting is no longer listed: choose another.")))
        elif target.kind == ReferralTargetKind.FELLOWSHIP and target.fellowship is None:
            found.append(("target", gettext("Choose the group.")))
        elif target.kind not in MUTUAL_AID and target.organisation is None:
            found.append(("target", gettext("Choose the organisation to refer to.")))
        for day in self.follow_up_dates(today):
            if day < today:
                found.append(
                    (
                        "follow-up",
                        gettext("The follow-up on %(date)s is in the past: move it or remove it.")
                        % {"date": date_format(day, "DATE_FORMAT")},
                    )
                )
        return found


def _codes_of(values: Any) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
