"""Every read of the volunteers' pages: scoped with `restrict`, in a fixed number of queries."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.models import IntroductionRequest
from recoverybridge.volunteers import matching
from recoverybridge.volunteers.models import (
    OPEN_STATES,
    Introduction,
    SafetyReport,
    Volunteer,
)

User = AbstractBaseUser | AnonymousUser

# The words for the matcher's reasons (matching.Reason.code).
REASONS = {
    "language": _("speaks their language"),
    "fellowship": _("a member of the group they chose"),
    "approach": _("the kind of group they prefer"),
    "moud": _("welcomes people on medication (MOUD)"),
    "gender": _("the gender they asked for"),
    "near": _("%(value)s km away"),
    "online": _("meets online"),
    "times": _("free when they are"),
    "free": _("no other introduction open"),
}


def reason_words(reasons: Iterable[tuple[str, object] | list[object] | matching.Reason]) -> list[str]:
    words = []
    for reason in reasons:
        code, value = (reason.code, reason.value) if isinstance(reason, matching.Reason) else reason
        label = REASONS.get(str(code))
        if label is not None:
            words.append(str(label) % {"value": value} if "%(value)" in str(label) else str(label))
    return words


def need_of(
    request: IntroductionRequest, *, language: str | None = None, times: frozenset[str] = frozenset()
) -> matching.Need:
    """What a request asks for, as the matcher reads it (the person's place stays here)."""
    referral = request.referral
    person = referral.person
    approaches = [request.approach] if request.approach else []
    for approach in (
        (referral.matters or {}).get("approaches", []) if isinstance(referral.matters, dict) else []
    ):
        if isinstance(approach, str) and approach not in approaches:
            approaches.append(approach)
    return matching.Need(
        language=language or request.language,
        fellowship=request.fellowship_id,
        approaches=tuple(approaches),
        gender=request.group_gender or "any",
        on_moud=request.on_moud,
        attendance=request.attendance or matching.EITHER,
        latitude=person.latitude,
        longitude=person.longitude,
        times=times,
    )


def _offer(volunteer: Volunteer, fellowships: Iterable[int], load: int) -> matching.Offer:
    return matching.Offer(
        id=volunteer.pk,
        active=volunteer.status == "active",
        capacity=volunteer.capacity,
        load=load,
        fellowships=frozenset(fellowships),
        approaches=frozenset(volunteer.approaches or ()),
        languages=frozenset(volunteer.languages or ()),
        gender=volunteer.gender,
        moud_welcoming=volunteer.moud_welcoming,
        latitude=volunteer.latitude,
        longitude=volunteer.longitude,
        reach_km=float(volunteer.reach_km),
        online=volunteer.online,
        availability=frozenset(volunteer.availability or ()),
    )


def offer_of(volunteer: Volunteer) -> matching.Offer:
    load = Introduction.objects.filter(volunteer=volunteer, state__in=OPEN_STATES).count()
    return _offer(volunteer, volunteer.fellowships.values_list("pk", flat=True), load)


def offers(volunteers: QuerySet[Volunteer]) -> list[matching.Offer]:
    """Every volunteer's offer with their load now, in three queries."""
    rows = list(
        volunteers.annotate(open_count=Count("introductions", filter=Q(introductions__state__in=OPEN_STATES)))
    )
    through = Volunteer.fellowships.through.objects.filter(volunteer_id__in=[v.pk for v in rows])
    fellowships: dict[int, list[int]] = {}
    for volunteer_id, fellowship_id in through.values_list("volunteer_id", "fellowship_id"):
        fellowships.setdefault(volunteer_id, []).append(fellowship_id)
    return [_offer(v, fellowships.get(v.pk, []), v.open_count) for v in rows]


@dataclass(frozen=True)
class Suggestion:
    volunteer: Volunteer
    match: matching.Match
    reasons: list[str]


KM_PER_DEGREE = 111.0


def within_reach(pool: QuerySet[Volunteer], need: matching.Need) -> QuerySet[Volunteer]:
    """The volunteers the matcher could offer, narrowed in the database so that a page reads a
    few hundred rows, not every volunteer: not full, their language, the gender and MOUD asked
    for, and either online or within a box as wide as the longest reach. A superset of what the matcher keeps
    (it decides); tests/volunteers/test_matching.py holds the two to each other."""
    pool = pool.annotate(
        open_count=Count("introductions", filter=Q(introductions__state__in=OPEN_STATES))
    ).filter(open_count__lt=F("capacity"))
    if need.gender == "women":
        pool = pool.filter(gender="woman")
    elif need.gender == "men":
        pool = pool.filter(gender="man")
    if need.on_moud:
        pool = pool.filter(moud_welcoming=True)
    # The language as an element of the JSON list, read as text: the same test on SQLite and
    # PostgreSQL (JSON containment is not SQLite's), exact because the quotes are part of it.
    pool = pool.filter(languages__icontains=f'"{need.language}"')
    online = Q(online=True)
    near = Q(pk__in=[])
    if need.latitude is not None and need.longitude is not None:
        reach = Volunteer.objects.aggregate(longest=Max("reach_km"))["longest"] or 0
        dlat = reach / KM_PER_DEGREE
        dlon = reach / (KM_PER_DEGREE * max(math.cos(math.radians(need.latitude)), 0.01))
        near = Q(latitude__range=(need.latitude - dlat, need.latitude + dlat))
        # Across the antimeridian the box would wrap: keep every longitude (still a superset).
        if need.longitude - dlon >= -180 and need.longitude + dlon <= 180:
            near &= Q(longitude__range=(need.longitude - dlon, need.longitude + dlon))
    if need.attendance == matching.IN_PERSON:
        return pool.filter(near)
    if need.attendance == matching.ONLINE_ONLY:
        return pool.filter(online)
    return pool.filter(near | online)


def suggestions(
    user: User,
    request: IntroductionRequest,
    *,
    language: str | None = None,
    times: frozenset[str] = frozenset(),
) -> list[Suggestion]:
    """The volunteers to offer for a request, best first, with the reasons in words."""
    need = need_of(request, language=language, times=times)
    pool = Volunteer.objects.restrict(user, "match")
    ranked = matching.rank(need, offers(within_reach(pool, need)), limit=5)
    by_id = pool.in_bulk([m.offer.id for m in ranked])
    return [Suggestion(by_id[m.offer.id], m, reason_words(m.reasons)) for m in ranked if m.offer.id in by_id]


def introductions_of_request(user: User, request: IntroductionRequest) -> QuerySet[Introduction]:
    return (
        Introduction.objects.restrict(user, "view")
        .filter(request=request)
        .select_related("volunteer")
        .order_by("-created_at")
    )


def my_introductions(user: User) -> QuerySet[Introduction]:
    """A volunteer's own introductions: the request's coded needs, never the person."""
    return (
        Introduction.objects.restrict(user, "answer")
        .select_related("request__fellowship")
        .order_by("-created_at")
    )


def my_profile(user: User) -> Volunteer | None:
    return Volunteer.objects.restrict(user, "self").select_related("organisation").first()


def coordinated(user: User) -> QuerySet[Volunteer]:
    """The coordinator's volunteers with their load (open introductions) and the ones met."""
    return (
        Volunteer.objects.restrict(user, "coordinate")
        .select_related("organisation", "vetted_by", "user")
        .prefetch_related("fellowships")
        .annotate(
            open_count=Count("introductions", filter=Q(introductions__state__in=OPEN_STATES)),
            met_count=Count("introductions", filter=Q(introductions__state="met")),
        )
        .order_by("status", "first_name", "pk")
    )


def reports_for(user: User) -> QuerySet[SafetyReport]:
    return (
        SafetyReport.objects.filter(
            introduction__volunteer__in=Volunteer.objects.restrict(user, "coordinate")
        )
        .select_related("introduction__volunteer", "reported_by")
        .order_by("handled_at", "-reported_at")
    )
