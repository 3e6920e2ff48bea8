"""Demo data for the evaluation pages: a few hundred people on the demo teams (made by
`manage.py demo_care`) with journeys, referrals, peer bridging, milestones, check-ins and outcome
responses over the past two years, so `make demo` shows a report worth reading.

Self-selection is built in, as in real services: people with more recovery capital at the
start are more likely to be peer bridged *and* do better anyway, so the naive comparison
flatters peer bridging and the adjusted estimate is smaller (but still there: bridging adds
to the chance of reaching mutual aid and to recovery capital). Workers differ in how often
they refer. Most people consented to evaluation; some did not, and a few revoked it. Returns
to use (in the days-of-use answers at 1, 3, 6 and 12 months) and readmissions (to detox or
residential rehab) are spread over the months after discharge, later for the bridged, so the
time-to-event curve falls from the first weeks as in real services.

Written with bulk_create, not through `care.actions` and `outcomes.actions`: a few thousand
audited transactions would take minutes, and the audit trail of made-up people says nothing.
So these rows have no audit events (the demo care records made through actions do). Responses
are validated and scored by the real engine. With no audit events the cohorts date a
referral's milestone by its last change (`Referral.updated_at`, set here to the milestone's
date). Deterministic for a seed and `now`; does nothing when its people are already there.
"""

import datetime
import math
import random
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from recoverybridge.care.models import (
    AssistedStep,
    AssistedStepKind,
    Consent,
    ConsentPurpose,
    Episode,
    EpisodeEnd,
    EpisodeKind,
    MutualAidMilestone,
    Person,
    Referral,
    ReferralOption,
    ReferralTargetKind,
    SpiritualPreference,
    TaskStatus,
)
from recoverybridge.demo.management.commands.demo_care import FAMILY, GIVEN, MARKER
from recoverybridge.directory.models import AttendanceMode, Fellowship, Meeting, MeetingStatus
from recoverybridge.organisations.models import Team
from recoverybridge.outcomes import instruments, scoring
from recoverybridge.outcomes.actions import add_months, value_sets
from recoverybridge.outcomes.models import CheckIn, CollectionMode, Response, ResponseStatus, TimePoint

REFERENCE_PREFIX = "RB-DEMO-EV"
DEMO_ORGANISATIONS = (MARKER, "Bridge Peer Network (demo)")
# (team name in the demo structure, worker username, how much more than average they refer
# and bridge, on the log-odds scale): referral practice differs between workers.
WORKERS = (
    ("Detox", "bob", 0.7),
    ("Detox", "carol", -0.5),
    ("Community", "dave", 0.0),
    ("Navigators", "nina", 0.4),
)


@dataclass
class _Rows:
    people: list[Person]
    consents: list[Consent]
    episodes: list[Episode]
    referrals: list[Referral]
    # Per referral (same order): chosen meeting, bridged step, milestone date.
    referral_extras: list[tuple[Meeting | None, tuple[str, datetime.date] | None, datetime.datetime | None]]
    responses: list[Response]
    check_ins: list[CheckIn]


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: means here are small.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def load_demo_evaluation(people: int = 300, seed: int = 7, now: datetime.datetime | None = None) -> str:
    """Create the evaluation demo people (once); returns a line saying what was done."""
    if Person.objects.filter(reference__startswith=REFERENCE_PREFIX).exists():
        return "Demo evaluation data already there: left as it is."
    teams = {team.name: team for team in Team.objects.filter(organisation__name__in=DEMO_ORGANISATIONS)}
    users = {user.username: user for user in User.objects.filter(username__in=[u for _t, u, _e in WORKERS])}
    workers = [(teams[t], users[u], effect) for t, u, effect in WORKERS if t in teams and u in users]
    if not workers:
        return "No demo teams (run demo_care first): no demo evaluation data."
    now = now or timezone.now()
    rng = random.Random(seed)
    meetings = list(
        Meeting.objects.filter(
            status=MeetingStatus.ACTIVE, attendance_mode__in=[AttendanceMode.ONLINE, AttendanceMode.IN_PERSON]
        ).order_by("pk")[:300]
    )
    online = [m for m in meetings if m.attendance_mode == AttendanceMode.ONLINE]
    in_person = [m for m in meetings if m.attendance_mode == AttendanceMode.IN_PERSON]
    fellowship = Fellowship.objects.order_by("pk").first()
    rows = _Rows([], [], [], [], [], [], [])
    for i in range(people):
        _person(rng, i, now, workers, online, in_person, fellowship, rows)
    with transaction.atomic():
        _save(rows)
    return (
        f"Created {people} demo evaluation people with {len(rows.episodes)} episodes, "
        f"{len(rows.referrals)} referrals and {len(rows.responses)} outcome responses (no audit rows: bulk demo data)."
    )


def _person(
    rng: random.Random,
    i: int,
    now: datetime.datetime,
    workers: list[tuple[Team, User, float]],
    online: list[Meeting],
    in_person: list[Meeting],
    fellowship: Fellowship | None,
    rows: _Rows,
) -> None:
    team, worker, worker_effect = workers[i % len(workers)]
    today = timezone.localdate(now)
    capital = rng.gauss(0.0, 1.0)  # recovery capital at the start, standardised
    secular = rng.random() < 0.3
    start = today - datetime.timedelta(days=rng.randrange(20, 720))
    person = Person(
        team=team,
        reference=f"{REFERENCE_PREFIX}{i:04d}",
        given_name=rng.choice(GIVEN),
        family_name=rng.choice(FAMILY),
        date_of_birth=datetime.date(
            start.year - rng.randrange(19, 66), rng.randrange(1, 13), rng.randrange(1, 29)
        ),
        spiritual_preference=SpiritualPreference.SECULAR if secular else rng.choice(["none", "spiritual"]),
        on_moud=rng.random() < 0.3,
        navigator=worker,
    )
    rows.people.append(person)
    given = _at(start, 9)
    choice = rng.random()
    if choice < 0.88:
        # A few revoked their evaluation consent later: they are left out and counted.
        revoked = _at(today, 9) - datetime.timedelta(days=rng.randrange(1, 30)) if choice > 0.84 else None
        rows.consents.append(
            Consent(person=person, purpose=ConsentPurpose.EVALUATION, given_at=given, revoked_at=revoked)
        )
    rows.consents.append(Consent(person=person, purpose=ConsentPurpose.CARE_COORDINATION, given_at=given))

    if rng.random() < 0.25:
        earlier = start - datetime.timedelta(days=rng.randrange(150, 500))
        rows.episodes.append(
            _episode(person, EpisodeKind.DETOX, earlier, earlier + datetime.timedelta(days=10), worker)
        )
    discharged: datetime.date | None = start + datetime.timedelta(days=rng.randrange(7, 15))
    assert discharged is not None
    if discharged > today:
        discharged = None
    completed = rng.random() < _expit(0.8 + 0.6 * capital)
    rows.episodes.append(
        _episode(
            person,
            EpisodeKind.DETOX,
            start,
            discharged,
            worker,
            EpisodeEnd.COMPLETED if completed else EpisodeEnd.DROPPED_OUT,
        )
    )
    after = discharged or today

    # Self-selection: more capital, more likely to be bridged.
    bridged = rng.random() < _expit(-0.6 + 0.9 * capital + worker_effect)
    referred = bridged or rng.random() < _expit(-0.4 + 0.3 * capital + worker_effect)
    attended = referred and rng.random() < _expit(-0.9 + 0.7 * capital + 1.0 * bridged)
    weekly = _poisson(rng, math.exp(0.3 + 0.5 * bridged + 0.2 * capital)) if attended else 0
    if referred:
        authored = min(after + datetime.timedelta(days=rng.randrange(0, 4)), today)
        chose_online = rng.random() < 0.25 + 0.15 * secular
        pool = online if chose_online and online else in_person or online
        meeting = rng.choice(pool) if pool else None
        step = None
        if bridged:
            step_on = min(authored + datetime.timedelta(days=rng.randrange(1, 6)), today)
            step = (rng.choice(AssistedStepKind.values), step_on)
        milestone_at = None
        if attended:
            milestone_day = start + datetime.timedelta(
                days=rng.randrange(14, 27) if rng.random() < 0.8 else 40
            )
            if milestone_day <= today:
                milestone_at = _at(milestone_day, 18)
        referral = Referral(
            person=person,
            team=team,
            referred_by=worker,
            target_kind=ReferralTargetKind.MEETING if meeting else ReferralTargetKind.FELLOWSHIP,
            meeting=meeting,
            fellowship=None if meeting else fellowship,
            status=TaskStatus.IN_PROGRESS if milestone_at else TaskStatus.REQUESTED,
            business_status=rng.choice(
                [MutualAidMilestone.ATTENDED_FIRST, MutualAidMilestone.ATTENDING_REGULARLY]
            )
            if milestone_at
            else "",
            authored_on=_at(authored, 11),
        )
        if meeting is not None or fellowship is not None:
            rows.referrals.append(referral)
            rows.referral_extras.append((meeting, step, milestone_at))
    days_at_start = max(0, min(28, round(15 - 6 * capital + rng.gauss(0, 4))))
    if rng.random() < _expit(-3.0 + 0.12 * days_at_start + worker_effect * 0.5):
        rows.referrals.append(
            Referral(
                person=person,
                team=team,
                referred_by=worker,
                target_kind=ReferralTargetKind.RESIDENTIAL_REHAB,
                target_organisation=team.organisation,
                status=TaskStatus.REQUESTED,
                authored_on=_at(min(after, today), 12),
            )
        )
        rows.referral_extras.append((None, None, None))

    if discharged is not None:
        # Treatment after detox: sooner for the bridged and for those with more capital.
        if rng.random() < _expit(-0.4 + 0.8 * bridged + 0.4 * capital):
            next_start = discharged + datetime.timedelta(days=rng.randrange(1, 14))
        else:
            next_start = discharged + datetime.timedelta(days=rng.randrange(20, 90))
        if next_start <= today and rng.random() < 0.8:
            rows.episodes.append(_episode(person, EpisodeKind.COMMUNITY_TREATMENT, next_start, None, worker))

    # Return to use: most often in the first weeks after discharge, less often later (a Weibull
    # time with a falling hazard), later for the bridged, the better connected and those with
    # more capital. Some who return to use are readmitted, to detox or residential rehab, days
    # to weeks later; the bridged less often.
    relapse_day = (discharged or start) + datetime.timedelta(
        days=round(rng.weibullvariate(math.exp(4.6 + 0.4 * capital + 0.5 * bridged + 0.1 * weekly), 0.8))
    )
    if discharged is not None and rng.random() < _expit(-0.4 - 0.7 * bridged - 0.3 * capital):
        readmitted = relapse_day + datetime.timedelta(days=rng.randrange(3, 60))
        if readmitted <= today:
            kind = EpisodeKind.DETOX if rng.random() < 0.75 else EpisodeKind.RESIDENTIAL_REHAB
            rows.episodes.append(_episode(person, kind, readmitted, None, worker))

    # Outcomes: capital and days of use move with capital (confounding) and with bridging and
    # meetings (the effects).
    barc0 = max(10, min(60, round(34 + 7 * capital + rng.gauss(0, 2))))
    network = max(0, round(2 + 1.5 * bridged + 0.7 * capital + rng.gauss(0, 1)))
    change_3m = 1.5 + 2.0 * bridged + 0.5 * network - 1.0 * capital + rng.gauss(0, 3)
    change_6m = change_3m + 1.0 + 1.0 * bridged + rng.gauss(0, 2)
    days_6m = 0.5 * days_at_start - 1.5 * weekly - 1.5 * bridged + rng.gauss(0, 3)
    days_12m = 0.9 * days_6m + rng.gauss(0, 3)
    # Days of use in the past 28, asked at 1 and 3 months too; none before the return to use.
    days_1m = 0.4 * days_at_start - 1.0 * weekly + rng.gauss(0, 3)
    days_3m = 0.5 * (days_1m + days_6m) + rng.gauss(0, 2)
    plan: list[tuple[str, str, int, Any]] = [
        ("barc-10", TimePoint.BASELINE, 0, _barc(barc0)),
        ("substance-use-28", TimePoint.BASELINE, 0, _days(days_at_start)),
        ("substance-use-28", TimePoint.MONTH_1, 1, days_1m),
        ("barc-10", TimePoint.MONTH_3, 3, _barc(barc0 + change_3m)),
        ("social-network", TimePoint.MONTH_3, 3, _network(network, rng)),
        ("substance-use-28", TimePoint.MONTH_3, 3, days_3m),
        ("barc-10", TimePoint.MONTH_6, 6, _barc(barc0 + change_6m)),
        ("substance-use-28", TimePoint.MONTH_6, 6, days_6m),
        ("substance-use-28", TimePoint.MONTH_12, 12, days_12m),
    ]
    for instrument_id, time_point, months, answers in plan:
        on = add_months(start, months) + datetime.timedelta(days=rng.randrange(0, 8) if months else 0)
        if on > today or (months and rng.random() < 0.15):
            continue  # not due yet, or missed
        if isinstance(answers, float):  # days of use after the start
            answers = _days(max(1.0, answers) if on > relapse_day else 0.0)
        rows.responses.append(_response(person, instrument_id, time_point, answers, _at(on, 14), worker))

    if rng.random() < 0.6:
        for week in range(1, 13):
            on = start + datetime.timedelta(days=7 * week)
            if on > today:
                break
            rows.check_ins.append(
                CheckIn(
                    person=person,
                    at=_at(on, 16),
                    meetings_count=_poisson(rng, weekly) if attended else 0,
                    mood=rng.randrange(2, 6),
                    mode=CollectionMode.STAFF,
                    recorded_by=worker,
                )
            )


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _episode(
    person: Person,
    kind: str,
    start: datetime.date,
    end: datetime.date | None,
    navigator: User,
    reason: str = EpisodeEnd.COMPLETED,
) -> Episode:
    return Episode(
        person=person,
        kind=kind,
        started_on=start,
        ended_on=end,
        end_reason=reason if end else EpisodeEnd.ONGOING,
        navigator=navigator,
    )


def _barc(total: float) -> dict[str, str]:
    total = max(10, min(60, round(total)))
    base, extra = divmod(total, 10)
    if base >= 6:
        base, extra = 6, 0
    return {f"barc-{n}": str(base + (1 if n <= extra else 0)) for n in range(1, 11)}


def _days(days: float) -> dict[str, int]:
    used = max(0, min(28, round(days)))
    return {
        "days-alcohol": used,
        "days-opiates": used // 2,
        "days-crack": 0,
        "days-cocaine": 0,
        "days-amphetamines": 0,
        "days-cannabis": 0,
        "days-other": 0,
    }


def _network(supportive: int, rng: random.Random) -> dict[str, int]:
    size = min(30, supportive + rng.randrange(1, 5))
    return {
        "network-size": size,
        "in-recovery": min(size, supportive),
        "supportive": min(size, supportive),
        "using-heavily": rng.randrange(0, size - supportive + 1) if size > supportive else 0,
    }


_VALUE_SETS: dict[str, Any] = {}


def _response(
    person: Person,
    instrument_id: str,
    time_point: str,
    answers: dict[str, Any],
    at: datetime.datetime,
    by: User,
) -> Response:
    instrument = instruments.get(instrument_id)
    if not _VALUE_SETS:
        _VALUE_SETS.update(value_sets())
    clean, scores = scoring.validate_and_score(instrument, answers, complete=True, value_sets=_VALUE_SETS)
    return Response(
        person=person,
        instrument=instrument.id,
        instrument_version=instrument.version,
        time_point=time_point,
        answers=clean,
        scores=scores,
        status=ResponseStatus.COMPLETED,
        mode=CollectionMode.STAFF,
        collected_by=by,
        started_at=at,
        completed_at=at,
    )


def _save(rows: _Rows) -> None:
    Person.objects.bulk_create(rows.people)
    # bulk_create set the people's ids on the objects the other rows point at.
    for group in (rows.consents, rows.episodes, rows.referrals, rows.responses, rows.check_ins):
        for row in group:
            row.person_id = row.person.pk
    Consent.objects.bulk_create(rows.consents)
    Episode.objects.bulk_create(rows.episodes)
    Referral.objects.bulk_create(rows.referrals)
    options, steps = [], []
    for referral, (meeting, step, milestone_at) in zip(rows.referrals, rows.referral_extras, strict=True):
        if meeting is not None:
            options.append(ReferralOption(referral=referral, meeting=meeting, chosen=True))
        if step is not None:
            steps.append(AssistedStep(referral=referral, kind=step[0], on=step[1], by=referral.referred_by))
        # updated_at is set on save; the milestone's date stands in for it (see the docstring).
        Referral.objects.filter(pk=referral.pk).update(updated_at=milestone_at or referral.authored_on)
    ReferralOption.objects.bulk_create(options)
    AssistedStep.objects.bulk_create(steps)
    Response.objects.bulk_create(rows.responses)
    CheckIn.objects.bulk_create(rows.check_ins)
