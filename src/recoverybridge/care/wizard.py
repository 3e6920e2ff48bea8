"""The referral wizard's first step: directory options for one person.

Matching suggests, the person chooses. Options are ranked by the person's preferences
(language, secular or spiritual, MOUD, online or in person, gender of group), and the list
always holds at least one meeting of every kind of group (approach) found nearby, however
it ranks: information parity. For someone on MOUD, meetings that welcome them come first
and meetings known not to welcome them stay on the list, marked, last.

Everything comes from the directory's search service (directory.queries.search_meetings):
one search near the person gives the nearest meetings and the count of every approach
nearby (its facets); a few narrower searches widen the pool for the person's language,
gender of group, MOUD and online preferences, and one per approach that the nearest
meetings do not already show.
"""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from recoverybridge.care.models import (
    AttendancePreference,
    GroupGenderPreference,
    Person,
    SpiritualPreference,
)
from recoverybridge.directory.models import Approach, AttendanceMode, Fellowship, MoudStance
from recoverybridge.directory.queries import Hit, MeetingSearch, SearchResult, search_meetings
from recoverybridge.directory.timing import schedule_text

# How many options the step shows before parity adds the approaches still missing.
SHOWN = 8
SPIRITUAL_APPROACHES = frozenset({Approach.TWELVE_STEP, Approach.FAITH_BASED, Approach.INDIGENOUS})
GENDER_ATTRIBUTE = {GroupGenderPreference.WOMEN: "women", GroupGenderPreference.MEN: "men"}


@dataclass
class Option:
    hit: Hit
    approach: str
    score: int
    matches: list[str] = field(default_factory=list)

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
    def schedule(self) -> str:
        return schedule_text(self.hit.meeting)

    @property
    def languages(self) -> list[str]:
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


def _language_codes(hit: Hit) -> set[str]:
    return {a.language_code for a in hit.meeting.attributes.all() if a.language_code}


def _attribute_slugs(hit: Hit) -> set[str]:
    return {a.slug for a in hit.meeting.attributes.all()}


def _score(person: Person, hit: Hit, approach: str) -> tuple[int, list[str]]:
    """Higher is a better match; `matches` says why, in words the worker can repeat."""
    meeting = hit.meeting
    score = 0
    matches: list[str] = []
    if person.on_moud:
        if meeting.moud_stance == MoudStance.WELCOMING:
            score += 6
        elif meeting.moud_stance == MoudStance.NOT_WELCOMING:
            score -= 20
    language = person.preferred_language
    spoken = _language_codes(hit)
    if language in spoken:
        score += 4
        matches.append(_("Held in the person's language"))
    elif spoken and language not in spoken:
        score -= 2
    slugs = _attribute_slugs(hit)
    if person.spiritual_preference == SpiritualPreference.SECULAR and (
        approach == Approach.SECULAR or "secular" in slugs
    ):
        score += 3
        matches.append(_("Secular"))
    elif person.spiritual_preference == SpiritualPreference.SPIRITUAL and approach in SPIRITUAL_APPROACHES:
        score += 3
        matches.append(_("Spiritual"))
    mode = meeting.attendance_mode
    if person.attendance_preference == AttendancePreference.ONLINE and mode in (
        AttendanceMode.ONLINE,
        AttendanceMode.HYBRID,
    ):
        score += 3
        matches.append(_("Online"))
    elif person.attendance_preference == AttendancePreference.IN_PERSON and mode in (
        AttendanceMode.IN_PERSON,
        AttendanceMode.HYBRID,
    ):
        score += 3
        matches.append(_("In person"))
    gender = GENDER_ATTRIBUTE.get(person.group_gender_preference)  # type: ignore[call-overload]
    if gender and gender in slugs:
        score += 3
        matches.append(_("Women only") if gender == "women" else _("Men only"))
    return score, matches


def _excluded(person: Person, hit: Hit) -> bool:
    """A meeting for the other gender only is not an option for someone who asked for one gender."""
    wanted = GENDER_ATTRIBUTE.get(person.group_gender_preference)  # type: ignore[call-overload]
    if wanted is None:
        return False
    other = "men" if wanted == "women" else "women"
    return other in _attribute_slugs(hit)


def is_family_member(person: Person) -> bool:
    """Someone recorded as another person's family member or concerned other: family groups are for them."""
    return person.related_as.exists()


def options_for(person: Person, *, now: datetime.datetime, shown: int = SHOWN) -> Options:
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
    if person.preferred_language and person.preferred_language != "en":
        results.append(search(language=person.preferred_language, page_size=30))
    if person.on_moud:
        results.append(search(moud_friendly=True, page_size=30))
    gender = GENDER_ATTRIBUTE.get(person.group_gender_preference)  # type: ignore[call-overload]
    if gender:
        results.append(search(attribute=[gender], page_size=30))
    if near and person.attendance_preference == AttendancePreference.ONLINE:
        results.append(
            search(lat=None, lon=None, mode=AttendanceMode.ONLINE.value, sort="next", page_size=30)
        )
    counts = {facet.value: facet.count for facet in main.facets.get("approach", [])}
    found = {fellowships[h.meeting.fellowship.slug] for r in results for h in r.hits}
    for approach, count in counts.items():
        if count and approach not in found:
            results.append(search(approach=approach, page_size=10))

    pool: dict[int, Option] = {}
    for result in results:
        for hit in result.hits:
            if hit.meeting.pk in pool or _excluded(person, hit):
                continue
            approach = fellowships[hit.meeting.fellowship.slug]
            score, matches = _score(person, hit, approach)
            pool[hit.meeting.pk] = Option(hit, approach, score, matches)

    def rank(option: Option) -> tuple[int, float, float]:
        distance = option.hit.distance_km
        when = option.hit.next_occurrence
        return (
            -option.score,
            distance if distance is not None else float("inf"),
            when.timestamp() if when else float("inf"),
        )

    ranked = sorted(pool.values(), key=rank)
    chosen = ranked[:shown]
    for approach in Approach:
        if not any(o.approach == approach for o in chosen):
            best = next((o for o in ranked if o.approach == approach), None)
            if best is not None:
                chosen.append(best)
    not_welcoming = sum(1 for o in pool.values() if o.not_welcoming)
    if person.on_moud and not_welcoming and not any(o.not_welcoming for o in chosen):
        # Told, and one shown (marked), so the worker can explain rather than it vanishing.
        chosen.append(next(o for o in ranked if o.not_welcoming))
    chosen.sort(key=rank)
    shown_approaches = {o.approach for o in chosen}
    approaches = [
        ApproachCount(a.value, str(a.label), counts.get(a.value, 0), a.value in shown_approaches)
        for a in Approach
    ]
    return Options(chosen, approaches, near, not_welcoming)
