"""Ranking the options by what matters to the person and what gets in their way (care.wizard).

Around Lewes there is one meeting with each feature a preference or barrier looks for (online,
childcare, newcomers, an evening start...) and otherwise plain ones. Each row of the table says
which meeting comes first when the person says that one thing, and the reason shown on it. Then,
over many combinations of answers: every kind of group nearby is still presented, meetings in
the person's language come first, unwelcoming ones for someone on MOUD last, and a reason is
only ever given to a meeting that has the feature it names.
"""

import random
from datetime import UTC, datetime, time

import pytest

from recoverybridge.care.drafts import Matters
from recoverybridge.care.models import FACILITATION_BARRIERS, Barrier
from recoverybridge.care.wizard import options_for
from recoverybridge.directory.models import Approach, AttendanceMode, Meeting, MoudStance
from tests.factories import make_location, make_meeting

# A Tuesday morning, in winter (London on GMT).
NOW = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
LONDON = "Europe/London"


@pytest.fixture
def lewes(world):
    town = make_location(name="Town Hall", latitude=50.873, longitude=0.009, city="Lewes", timezone=LONDON)
    near = make_location(name="Library", latitude=50.875, longitude=0.012, city="Lewes", timezone=LONDON)
    edge = make_location(name="Edge Hall", latitude=50.95, longitude=0.05, city="Ringmer", timezone=LONDON)
    morning = {"weekday": 3, "start_time": time(10, 0), "end_time": time(11, 0)}
    made = {
        "plain": make_meeting("aa", location=near, name="Plain AA", **morning),
        "online": make_meeting(
            "na",
            location=None,
            attendance_mode="online",
            conference_url="https://meet.example.org/na",
            name="Online NA",
            timezone=LONDON,
            **morning,
        ),
        "childcare": make_meeting(
            "aa", location=edge, name="Childcare AA", attributes=("childcare",), **morning
        ),
        "evening": make_meeting("aa", location=edge, name="Evening AA", weekday=3, start_time=time(19, 0)),
        "newcomers": make_meeting(
            "ca", location=edge, name="Newcomers CA", attributes=("newcomers",), **morning
        ),
        "speaker": make_meeting("aa", location=edge, name="Speaker AA", attributes=("speaker",), **morning),
        "wheelchair": make_meeting(
            "na", location=edge, name="Step-free NA", attributes=("wheelchair-access",), **morning
        ),
        "welcoming": make_meeting(
            "na", location=edge, name="Welcoming NA", moud_stance="welcoming", **morning
        ),
        "unwelcoming": make_meeting(
            "na", location=town, name="Old School NA", moud_stance="not_welcoming", **morning
        ),
        "mara": make_meeting("mara", location=edge, name="Ringmer MARA", **morning),
        "open": make_meeting("aa", location=edge, name="Open AA", attributes=("open",), **morning),
        "spanish": make_meeting("aa", location=edge, name="Grupo AA", attributes=("language-es",), **morning),
        "women": make_meeting("aa", location=edge, name="Women's AA", attributes=("women",), **morning),
        "men": make_meeting("aa", location=town, name="Men's AA", attributes=("men",), **morning),
        "smart": make_meeting("smart", location=edge, name="Ringmer SMART", **morning),
        "dharma": make_meeting("recovery-dharma", location=edge, name="Ringmer Dharma", **morning),
        "celebrate": make_meeting("celebrate-recovery", location=edge, name="Celebrate", **morning),
        "wellbriety": make_meeting("wellbriety", location=edge, name="Wellbriety", **morning),
    }
    world.pat.time_zone = LONDON
    world.pat.save()
    return made


def ranked(person, **kwargs):
    return options_for(person, now=NOW, **kwargs).options


# (what they said: Matters changes, barriers) -> the meeting first on the list, and its reason
ROWS = [
    ({}, [Barrier.TRANSPORT], "online", "Online: no travel needed"),
    ({}, [Barrier.CHILDCARE], "childcare", "Childcare available"),
    ({}, [Barrier.WORK_HOURS], "evening", "In the evening, after work"),
    ({}, [Barrier.GROUP_ANXIETY], "newcomers", "For newcomers"),
    ({}, [Barrier.MOUD_STIGMA], "welcoming", "Welcomes people on MOUD"),
    ({}, [Barrier.ACCESS], "wheelchair", "Wheelchair access"),
    ({}, [Barrier.PRIVACY], "online", "Online: more private"),
    ({}, [Barrier.DOUBTS], "newcomers", "For newcomers"),
    ({"on_moud": True}, [], "welcoming", "Welcomes people on MOUD"),
    ({"language": "es"}, [], "spanish", "In Spanish"),
    ({"approaches": [Approach.MEDICATION_ASSISTED]}, [], "mara", "Medication-assisted, as they asked"),
    ({"fellowship": "ca"}, [], "newcomers", "Cocaine Anonymous, as they asked"),
    ({"gender": "women"}, [], "women", "Women only"),
    ({"attendance": "online"}, [], "online", "Online, as they prefer"),
    ({"spiritual": "secular"}, [], "smart", "Secular"),
]


@pytest.mark.parametrize(("changes", "barriers", "first", "reason"), ROWS)
def test_what_they_say_moves_the_option_that_fits_to_the_top_with_its_reason(
    world, lewes, changes, barriers, first, reason
):
    plain = ranked(world.pat)
    assert plain[0].hit.meeting != lewes[first], "the fixture's meeting must not come first anyway"
    options = ranked(
        world.pat, matters=Matters(**{**Matters.of(world.pat).as_json(), **changes}), barriers=barriers
    )
    assert options[0].hit.meeting == lewes[first]
    assert reason in options[0].reasons


def test_without_an_internet_connection_online_only_meetings_go_down(world, lewes):
    # Transport brings the online meeting onto the list; no internet then takes it down again.
    before = [o.hit.meeting for o in ranked(world.pat, barriers=[Barrier.TRANSPORT])]
    after = [o.hit.meeting for o in ranked(world.pat, barriers=[Barrier.TRANSPORT, Barrier.NO_INTERNET])]
    assert after.index(lewes["online"]) > before.index(lewes["online"])


def test_asking_for_women_only_leaves_out_men_only(world, lewes):
    options = ranked(world.pat, matters=Matters(**{**Matters.of(world.pat).as_json(), "gender": "women"}))
    assert lewes["men"] not in [o.hit.meeting for o in options]


def test_meetings_chosen_before_stay_on_the_list_wherever_they_rank(world, lewes):
    options = ranked(
        world.pat,
        matters=Matters(**{**Matters.of(world.pat).as_json(), "language": "es"}),
        keep=[lewes["men"].pk],
    )
    assert lewes["men"] in [o.hit.meeting for o in options]


# What each reason says about the meeting it is given to.
REASON_HOLDS = {
    "Online: no travel needed": lambda m: m.attendance_mode in (AttendanceMode.ONLINE, AttendanceMode.HYBRID),
    "Online: more private": lambda m: m.attendance_mode in (AttendanceMode.ONLINE, AttendanceMode.HYBRID),
    "Childcare available": lambda m: "childcare" in slugs(m),
    "For newcomers": lambda m: "newcomers" in slugs(m),
    "Speaker meeting: they can just listen": lambda m: "speaker" in slugs(m),
    "Wheelchair access": lambda m: "wheelchair-access" in slugs(m),
    "Welcomes people on MOUD": lambda m: m.moud_stance == MoudStance.WELCOMING,
    "In Spanish": lambda m: "language-es" in slugs(m),
    "Women only": lambda m: "women" in slugs(m),
    "In the evening, after work": lambda m: m.start_time >= time(17, 0),
    "Open meeting: anyone may come and listen": lambda m: "open" in slugs(m),
}


def slugs(meeting: Meeting) -> set[str]:
    return set(meeting.attributes.values_list("slug", flat=True))


def combinations() -> list[tuple[dict[str, object], list[str]]]:
    """Every single barrier, and a fixed sample of mixed answers (seeded: the same each run)."""
    rng = random.Random(11)
    combos: list[tuple[dict[str, object], list[str]]] = [({}, [b]) for b in FACILITATION_BARRIERS]
    for _ in range(24):
        combos.append(
            (
                {
                    "language": rng.choice(["en", "es"]),
                    "on_moud": rng.random() < 0.5,
                    "gender": rng.choice(["any", "women", "men"]),
                    "attendance": rng.choice(["either", "online", "in_person"]),
                    "approaches": rng.sample(list(Approach.values), rng.randrange(0, 3)),
                },
                rng.sample(FACILITATION_BARRIERS, rng.randrange(0, 5)),
            )
        )
    return combos


def test_over_many_answers_parity_order_and_honest_reasons_hold(world, lewes):
    nearby = {Approach.TWELVE_STEP, Approach.SECULAR, Approach.MEDICATION_ASSISTED, Approach.OTHER}
    nearby |= {Approach.FAITH_BASED, Approach.INDIGENOUS}
    for changes, barriers in combinations():
        matters = Matters(**{**Matters.of(world.pat).as_json(), **changes})
        result = options_for(world.pat, now=NOW, matters=matters, barriers=barriers)
        options = result.options
        label = (changes, barriers)
        # Information parity: every kind of group nearby is on the list, whatever was said.
        assert {o.approach for o in options} >= nearby, label
        assert {a.approach for a in result.approaches if a.count} <= {o.approach for o in options}, label
        # Their language first; for someone on MOUD, the meeting that does not welcome them last.
        order = [(o.unwelcoming, o.language_rank) for o in options]
        assert order == sorted(order), label
        if matters.on_moud:
            assert options[-1].hit.meeting == lewes["unwelcoming"], label
        # A reason is only given where the meeting has what it says.
        for option in options:
            for reason in option.reasons:
                holds = REASON_HOLDS.get(reason)
                if holds is not None:
                    assert holds(option.hit.meeting), (label, option.hit.meeting.name, reason)
