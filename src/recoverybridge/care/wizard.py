"""The referral wizard's options: directory meetings ranked for one person, with the reasons.

Matching suggests, the person chooses. Options are ranked by what matters to them (kind of
group or fellowship, secular or spiritual, language, gender of group, MOUD, online or in
person) and by what may get in their way (transport, childcare, work hours, anxiety about
groups, stigma about medication...); each option carries its reasons in words the worker can
repeat ("Online: no travel needed", "Welcomes people on MOUD", "In Spanish").

The order is, in turn:
1. for someone on MOUD, meetings known not to welcome them last (never hidden: marked);
2. meetings held in the person's language first, then those whose language is not listed,
   then those held only in other languages;
3. the score of the matches below; then distance; then the next occurrence.

| what matters or gets in the way | favours                                           | score |
|---------------------------------|---------------------------------------------------|-------|
| on MOUD                         | welcomes people on MOUD                           | +6    |
| a particular fellowship         | that fellowship                                   | +5    |
| kinds of group                  | those approaches                                  | +4    |
| secular / spiritual             | secular groups / 12-step, faith-based, Indigenous | +3    |
| online / in person              | online or hybrid / in person or hybrid            | +3    |
| gender of group                 | women-only / men-only (the other one left out)    | +3    |
| transport                       | online or hybrid +4; within walking distance +2   |       |
| childcare                       | childcare or child-friendly +4; online +3         |       |
| work or study hours             | evenings (from 5 p.m. their time) or weekends +2  |       |
| anxious about groups            | newcomer meetings +3; speaker meetings +2         |       |
| stigma about medication         | welcomes MOUD +4; medication-assisted groups +3   |       |
| disability or access needs      | wheelchair access +4; online +2                   |       |
| no phone, data or internet      | online-only meetings -3 (one with a phone line +1)|       |
| worried about being recognised  | online +2                                         |       |
| unsure groups are for them      | open meetings +2; newcomer meetings +2            |       |

Information parity: the list always holds at least one meeting of every kind of group
(approach) found nearby, however it ranks, and meetings the person already chose stay on it.

Everything comes from the directory's search service (directory.queries.search_meetings): one
search near the person gives the nearest meetings and the count of every approach nearby (its
facets); a few narrower searches widen the pool for what matters and what gets in the way, and
one per approach that the others do not already show.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from recoverybridge.care.drafts import Matters
from recoverybridge.care.models import (
    AttendancePreference,
    Barrier,
    GroupGenderPreference,
    Person,
    SpiritualPreference,
)
from recoverybridge.care.queries import active_meetings, language_name
from recoverybridge.care.times import MeetingTime, format_locale, meeting_time
from recoverybridge.directory.models import (
    Approach,
    AttendanceMode,
    Fellowship,
    Meeting,
    MoudStance,
)
from recoverybridge.directory.queries import Hit, MeetingSearch, SearchResult, search_meetings
from recoverybridge.directory.timing import next_occurrence, zone

# How many options the step shows before parity adds the approaches still missing.
SHOWN = 8
# Candidates taken from each narrower search (a language, MOUD, online, an attribute...).
NARROW = 12
SPIRITUAL_APPROACHES = frozenset({Approach.TWELVE_STEP, Approach.FAITH_BASED, Approach.INDIGENOUS})
GENDER_ATTRIBUTE = {GroupGenderPreference.WOMEN: "women", GroupGenderPreference.MEN: "men"}
ONLINE_MODES = frozenset({AttendanceMode.ONLINE, AttendanceMode.HYBRID})
IN_PERSON_MODES = frozenset({AttendanceMode.IN_PERSON, AttendanceMode.HYBRID})
# Barriers an online meeting gets round, when the person lives somewhere in particular.
ONLINE_HELPS = frozenset({Barrier.TRANSPORT, Barrier.CHILDCARE, Barrier.ACCESS, Barrier.PRIVACY})
WALKING_KM = 1.5
EVENING = datetime.time(17, 0)


@dataclass
class Option:
    hit: Hit
    approach: str
    score: int
    # Why it suits them, in words the worker can repeat.
    reasons: list[str] = field(default_factory=list)
    # 0: held in their language; 1: language not listed; 2: only in other languages.
    language_rank: int = 1
    # For someone on MOUD: known not to welcome them (listed last, marked).
    unwelcoming: bool = False
    time: MeetingTime = field(default_factory=lambda: MeetingTime(""))

    @property
    def meeting_id(self) -> int:
        return self.hit.meeting.pk

    @property
    def not_welcoming(self) -> bool:
        return self.hit.meeting.moud_stance == MoudStance.NOT_WELCOMING

    @property
    def approach_label(self) -> str:
        return str(Approach(self.approach).label)

    @property
    def languages(self) -> list[str]:
        """The languages it is held in, named in the page's language ([] when not listed)."""
        language = get_language() or "en"
        return [a.name_in(language) for a in self.hit.meeting.attributes.all() if a.language_code]


@dataclass
class ApproachCount:
    approach: str
    label: str
    count: int
    shown: bool


@dataclass
class Options:
    options: list[Option]
    # Every approach with its count of meetings nearby (zeros too), and whether the list shows it.
    approaches: list[ApproachCount]
    near_person: bool
    # Meetings nearby known not to welcome people on MOUD (told to the worker, never hidden silently).
    not_welcoming_nearby: int
    # The person's language, named in the page's language.
    language_name: str


def _attributes(hit: Hit) -> tuple[set[str], set[str]]:
    """The meeting's attribute slugs and language codes (attributes come prefetched by the search)."""
    attributes = list(hit.meeting.attributes.all())
    return {a.slug for a in attributes}, {a.language_code for a in attributes if a.language_code}


class Adder(Protocol):
    def __call__(self, points: int, reason: str | None = None) -> None: ...


class Ranker:
    """Scores one person's options: what matters to them, what gets in their way."""

    def __init__(self, person: Person, matters: Matters, barriers: Iterable[str], language: str) -> None:
        self.person = person
        self.matters = matters
        self.barriers = frozenset(barriers)
        self.language = language
        self.zone = zone(person.zone_name)
        self.near = person.latitude is not None and person.longitude is not None

    def excluded(self, hit: Hit) -> bool:
        """A meeting for the other gender only is not an option for someone who asked for one gender."""
        wanted = GENDER_ATTRIBUTE.get(self.matters.gender)  # type: ignore[call-overload]
        if wanted is None:
            return False
        return ("men" if wanted == "women" else "women") in _attributes(hit)[0]

    def option(self, hit: Hit, approach: str, now: datetime.datetime) -> Option:
        meeting = hit.meeting
        slugs, spoken = _attributes(hit)
        matters = self.matters
        score = 0
        reasons: list[str] = []

        def add(points: int, reason: str | None = None) -> None:
            nonlocal score
            score += points
            if reason and reason not in reasons:
                reasons.append(reason)

        welcoming = meeting.moud_stance == MoudStance.WELCOMING
        if matters.on_moud and welcoming:
            add(6, _("Welcomes people on MOUD"))
        if Barrier.MOUD_STIGMA in self.barriers:
            if welcoming:
                add(4, _("Welcomes people on MOUD"))
            if approach == Approach.MEDICATION_ASSISTED:
                add(3, _("A group for people on medication"))
        rank = 0 if matters.language in spoken else (2 if spoken else 1)
        if rank == 0 and matters.language != "en":
            add(0, _("In %(language)s") % {"language": self.language})
        if matters.fellowship and meeting.fellowship.slug == matters.fellowship:
            add(5, _("%(fellowship)s, as they asked") % {"fellowship": meeting.fellowship.name})
        if approach in matters.approaches:
            add(4, _("%(kind)s, as they asked") % {"kind": Approach(approach).label})
        if matters.spiritual == SpiritualPreference.SECULAR and (
            approach == Approach.SECULAR or "secular" in slugs
        ):
            add(3, _("Secular"))
        elif matters.spiritual == SpiritualPreference.SPIRITUAL and approach in SPIRITUAL_APPROACHES:
            add(3, _("Spiritual"))
        mode = meeting.attendance_mode
        online = mode in ONLINE_MODES
        if matters.attendance == AttendancePreference.ONLINE and online:
            add(3, _("Online, as they prefer"))
        elif matters.attendance == AttendancePreference.IN_PERSON and mode in IN_PERSON_MODES:
            add(3, _("In person, as they prefer"))
        gender = GENDER_ATTRIBUTE.get(matters.gender)  # type: ignore[call-overload]
        if gender and gender in slugs:
            add(3, _("Women only") if gender == "women" else _("Men only"))
        self.barrier_reasons(hit, slugs, now, add)
        unwelcoming = matters.on_moud and meeting.moud_stance == MoudStance.NOT_WELCOMING
        return Option(hit, approach, score, reasons, rank, unwelcoming)

    def barrier_reasons(self, hit: Hit, slugs: set[str], now: datetime.datetime, add: "Adder") -> None:
        meeting = hit.meeting
        barriers = self.barriers
        online = meeting.attendance_mode in ONLINE_MODES
        if Barrier.TRANSPORT in barriers:
            if online:
                add(4, _("Online: no travel needed"))
            elif hit.distance_km is not None and hit.distance_km <= WALKING_KM:
                add(2, _("Within walking distance"))
        if Barrier.CHILDCARE in barriers:
            if "childcare" in slugs:
                add(4, _("Childcare available"))
            elif "child-friendly" in slugs:
                add(4, _("Children welcome"))
            if online:
                add(3, _("Online: they can join from home"))
        if Barrier.WORK_HOURS in barriers and meeting.weekday is not None and meeting.start_time is not None:
            local = next_occurrence(meeting.weekday, meeting.start_time, meeting.timezone, now).astimezone(
                self.zone
            )
            if local.weekday() >= 5:
                add(2, _("At the weekend"))
            elif local.time() >= EVENING:
                add(2, _("In the evening, after work"))
        if Barrier.GROUP_ANXIETY in barriers:
            if "newcomers" in slugs:
                add(3, _("For newcomers"))
            if "speaker" in slugs:
                add(2, _("Speaker meeting: they can just listen"))
        if Barrier.ACCESS in barriers:
            if "wheelchair-access" in slugs:
                add(4, _("Wheelchair access"))
            if online:
                add(2, _("Online: no travel needed"))
        if Barrier.NO_INTERNET in barriers and meeting.attendance_mode == AttendanceMode.ONLINE:
            add(-3)
            if meeting.conference_phone:
                add(1, _("They can join by phone"))
        if Barrier.PRIVACY in barriers and online:
            add(2, _("Online: more private"))
        if Barrier.DOUBTS in barriers:
            if "open" in slugs:
                add(2, _("Open meeting: anyone may come and listen"))
            if "newcomers" in slugs:
                add(2, _("For newcomers"))


def is_family_member(person: Person) -> bool:
    """Someone recorded as another person's family member or concerned other: family groups are for them."""
    return person.related_as.exists()


def _rank(option: Option) -> tuple[bool, int, int, float, float]:
    distance = option.hit.distance_km
    when = option.hit.next_occurrence
    return (
        option.unwelcoming,
        option.language_rank,
        -option.score,
        distance if distance is not None else float("inf"),
        when.timestamp() if when else float("inf"),
    )


def options_for(
    person: Person,
    *,
    now: datetime.datetime,
    matters: Matters | None = None,
    barriers: Iterable[str] = (),
    keep: Iterable[int] = (),
    shown: int = SHOWN,
) -> Options:
    """The options for `person`, ranked by `matters` (their record's preferences by default) and
    `barriers`; meetings in `keep` (chosen before) stay on the list wherever they rank."""
    matters = matters or Matters.of(person)
    barriers = frozenset(barriers)
    family = is_family_member(person)
    fellowships = {
        slug: approach
        for slug, approach, family_focused in Fellowship.objects.values_list(
            "slug", "approach", "family_focused"
        )
        if family_focused == family
    }
    near = person.latitude is not None and person.longitude is not None
    base: dict[str, object] = {"fellowship": sorted(fellowships), "page_size": 100}
    if near:
        base.update(lat=person.latitude, lon=person.longitude, sort="distance")
    else:
        # Without a place, only online meetings are "near" the person.
        base.update(mode=AttendanceMode.ONLINE.value, sort="next")

    def search(**extra: object) -> SearchResult:
        return search_meetings(MeetingSearch(**{**base, **extra}), now=now)  # type: ignore[arg-type]

    main = search()
    results = [main]
    # The narrower searches only need enough candidates to fill the top of the list.
    if matters.language and matters.language != "en":
        results.append(search(language=matters.language, page_size=NARROW))
    if matters.on_moud or Barrier.MOUD_STIGMA in barriers:
        results.append(search(moud_friendly=True, page_size=NARROW))
    gender = GENDER_ATTRIBUTE.get(matters.gender)  # type: ignore[call-overload]
    if gender:
        results.append(search(attribute=[gender], page_size=NARROW))
    if matters.fellowship in fellowships:
        results.append(search(fellowship=[matters.fellowship], page_size=NARROW))
    for approach in matters.approaches:
        results.append(search(approach=approach, page_size=NARROW))
    if near and (matters.attendance == AttendancePreference.ONLINE or barriers & ONLINE_HELPS):
        results.append(
            search(lat=None, lon=None, mode=AttendanceMode.ONLINE.value, sort="next", page_size=NARROW)
        )
    for barrier, attribute in (
        (Barrier.CHILDCARE, "childcare"),
        (Barrier.GROUP_ANXIETY, "newcomers"),
        (Barrier.ACCESS, "wheelchair-access"),
    ):
        if barrier in barriers:
            results.append(search(attribute=[attribute], page_size=NARROW))
    if Barrier.WORK_HOURS in barriers:
        results.append(search(start_after=EVENING, page_size=NARROW))
    counts = {facet.value: facet.count for facet in main.facets.get("approach", [])}
    found = {fellowships[h.meeting.fellowship.slug] for r in results for h in r.hits}
    for approach, count in counts.items():
        if count and approach not in found:
            results.append(search(approach=approach, page_size=10))

    language = language_name(matters.language)
    ranker = Ranker(person, matters, barriers, language)
    pool: dict[int, Option] = {}
    for result in results:
        for hit in result.hits:
            if hit.meeting.pk in pool or ranker.excluded(hit):
                continue
            pool[hit.meeting.pk] = ranker.option(hit, fellowships[hit.meeting.fellowship.slug], now)
    kept = list(dict.fromkeys(keep))
    missing = [pk for pk in kept if pk not in pool]
    for meeting in active_meetings(missing).values():
        if meeting.fellowship.slug in fellowships:
            hit = Hit(meeting, None, _next(meeting, now))
            pool[meeting.pk] = ranker.option(hit, fellowships[meeting.fellowship.slug], now)

    ranked = sorted(pool.values(), key=_rank)
    chosen = ranked[:shown]
    for approach in Approach:
        if not any(o.approach == approach for o in chosen):
            best = next((o for o in ranked if o.approach == approach), None)
            if best is not None:
                chosen.append(best)
    chosen += [pool[pk] for pk in kept if pk in pool and pool[pk] not in chosen]
    not_welcoming = sum(1 for o in pool.values() if o.not_welcoming)
    if matters.on_moud and not_welcoming and not any(o.not_welcoming for o in chosen):
        # Told, and one shown (marked), so the worker can explain rather than it vanishing.
        chosen.append(next(o for o in ranked if o.not_welcoming))
    chosen.sort(key=_rank)
    # Times only for what is shown: in the person's zone, as their region writes them.
    locale = format_locale(person.zone_name)
    for option in chosen:
        option.time = meeting_time(option.hit.meeting, person.zone_name, now, locale)
    shown_approaches = {o.approach for o in chosen}
    approaches = [
        ApproachCount(a.value, str(a.label), counts.get(a.value, 0), a.value in shown_approaches)
        for a in Approach
    ]
    return Options(chosen, approaches, near, not_welcoming, language)


def _next(meeting: Meeting, now: datetime.datetime) -> datetime.datetime | None:
    if meeting.weekday is None or meeting.start_time is None:
        return None
    return next_occurrence(meeting.weekday, meeting.start_time, meeting.timezone, now)
