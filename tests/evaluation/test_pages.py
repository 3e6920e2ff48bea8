"""The evaluation pages: the report form, the report for a team manager (exact figures) and for
a service manager (suppressed), its PDF and CSV, the audit trail and Spanish.

Tess manages the North team of Northshore Recovery, in the Coast area. Her team has had 44
people through detox in the past year; all but four agreed to their records being used for
evaluation (and 13 of the South team's 14). People who came in with more recovery capital were more often peer bridged
(introduced or accompanied to a meeting) and more often got to a meeting within 28 days.
Sol manages the whole Northshore service (North and South): he reads the same
report as an outside audience, every small count hidden.
"""

import csv
import datetime
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import (
    AssistedStepKind,
    Consent,
    ConsentPurpose,
    Episode,
    EpisodeEnd,
    EpisodeKind,
    MutualAidMilestone,
    Person,
    ReferralTargetKind,
    SpiritualPreference,
)
from recoverybridge.directory.models import Fellowship
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
from recoverybridge.outcomes import actions as outcome_actions
from recoverybridge.outcomes.models import TimePoint
from tests.care_world import make_person, make_user

REPORT = "/staff/evaluation/report/"
QUERY = "episode_kinds=detox&treatment=peer_bridged&outcomes=mutual_aid_28d&outcomes=treatment_completed&estimand=ate"


@dataclass
class EvaluationWorld:
    northshore: Organisation
    north: Team
    south: Team
    tess: User  # team manager, North
    sol: User  # service manager, Northshore
    pim: User  # peer worker, North
    people: list[Person]


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def barc(total_per_item: int) -> dict[str, str]:
    return {f"barc-{n}": str(total_per_item) for n in range(1, 11)}


def build_evaluation_world(people_on_north: int = 44, people_on_south: int = 14) -> EvaluationWorld:
    rng = random.Random(6)
    northshore = Organisation.objects.create(
        name="Northshore Recovery", kind=OrganisationKind.TREATMENT, area="Coast"
    )
    north = Team.objects.create(organisation=northshore, name="North")
    south = Team.objects.create(organisation=northshore, name="South")
    tess = make_user("tess", north, Role.TEAM_MANAGER, first_name="Tess", last_name="Morgan")
    sol = make_user("sol", south, Role.SERVICE_MANAGER)
    pim = make_user("pim", north, Role.PEER_WORKER, first_name="Pim", last_name="Lee")
    kit = make_user("kit", south, Role.PEER_WORKER, first_name="Kit", last_name="Ray")
    aa = Fellowship.objects.get(slug="aa")
    today = timezone.localdate()
    people = []
    teams = [(north, pim)] * people_on_north + [(south, kit)] * people_on_south
    for i, (team, worker) in enumerate(teams):
        person = make_person(
            team,
            f"RB-EVAL{i:04d}",
            f"Evan{i}",
            date_of_birth=datetime.date(1960 + rng.randrange(40), 1 + i % 12, 1 + i % 28),
            on_moud=rng.random() < 0.4,
            spiritual_preference=SpiritualPreference.SECULAR
            if i % 4 == 0
            else SpiritualPreference.NO_PREFERENCE,
            navigator=worker,
        )
        people.append(person)
        start = today - datetime.timedelta(days=380 - 7 * (i % 40))
        if i % 11 != 3:  # four of North's people did not agree to evaluation
            actions.give_consent(worker, person, purpose=ConsentPurpose.EVALUATION, now=at(start))
        capital = rng.randint(2, 5)
        outcome_actions.record_response(
            worker, person, "barc-10", barc(capital), time_point=TimePoint.BASELINE, now=at(start)
        )
        outcome_actions.record_response(
            worker,
            person,
            "substance-use-28",
            {"days-opiates": rng.randint(0, 28 - 5 * capital)},
            time_point=TimePoint.BASELINE,
            now=at(start),
        )
        if i % 5 == 0:  # an earlier spell of aftercare
            earlier = actions.start_episode(
                worker, person, kind=EpisodeKind.AFTERCARE, started_on=start - datetime.timedelta(days=400)
            )
            actions.end_episode(
                worker,
                earlier,
                ended_on=start - datetime.timedelta(days=300),
                end_reason=EpisodeEnd.COMPLETED,
            )
        episode = actions.start_episode(
            worker, person, kind=EpisodeKind.DETOX, started_on=start, navigator=worker
        )
        ended = start + datetime.timedelta(days=10)
        completed = rng.random() < 0.3 + 0.1 * capital
        actions.end_episode(
            worker,
            episode,
            ended_on=ended,
            end_reason=EpisodeEnd.COMPLETED if completed else EpisodeEnd.DROPPED_OUT,
            now=at(ended),
        )
        # Self-selection: more capital, more often bridged (yet both groups have all levels).
        bridged = rng.random() < 0.05 + 0.1 * capital
        if bridged or rng.random() < 0.5:
            referral = actions.create_referral(
                worker, person, target_kind=ReferralTargetKind.FELLOWSHIP, fellowship=aa, now=at(start, 11)
            )
            if bridged:
                actions.record_assisted_step(
                    worker,
                    referral,
                    kind=AssistedStepKind.ACCOMPANIED,
                    on=start + datetime.timedelta(days=3),
                    now=at(start + datetime.timedelta(days=3)),
                )
            if rng.random() < 0.2 + 0.08 * capital + (0.25 if bridged else 0):
                day = start + datetime.timedelta(days=12)
                actions.set_business_status(worker, referral, MutualAidMilestone.ATTENDED_FIRST, now=at(day))
        meetings = rng.randint(0, 3) + (2 if bridged else 0)
        outcome_actions.record_check_in(
            worker, person, meetings_count=meetings, now=at(start + datetime.timedelta(days=40))
        )
        three_months = start + datetime.timedelta(days=91)
        supportive = rng.randint(0, 3) + (2 if bridged else 0)
        outcome_actions.record_response(
            worker,
            person,
            "social-network",
            {"network-size": supportive + 4, "in-recovery": supportive, "supportive": supportive},
            time_point=TimePoint.MONTH_3,
            now=at(three_months),
        )
        # A return to use, reported at three months, for about a third.
        if rng.random() < (0.25 if bridged else 0.45):
            outcome_actions.record_response(
                worker,
                person,
                "substance-use-28",
                {"days-opiates": rng.randint(1, 10)},
                time_point=TimePoint.MONTH_3,
                now=at(three_months),
            )
        if start + datetime.timedelta(days=180) < today:
            outcome_actions.record_response(
                worker,
                person,
                "barc-10",
                barc(min(6, capital + rng.choice((-1, 0, 0, 1)) + (1 if bridged else 0))),
                time_point=TimePoint.MONTH_6,
                now=at(start + datetime.timedelta(days=182)),
            )
    return EvaluationWorld(northshore, north, south, tess, sol, pim, people)


@pytest.fixture(scope="module")
def northshore(django_db_setup, django_db_blocker) -> Iterator[EvaluationWorld]:
    """Built once for the module's report tests (it takes a few hundred actions), inside a
    transaction rolled back at the end; each test's own transaction nests inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_evaluation_world()
        transaction.set_rollback(True)


@pytest.fixture
def staff(db) -> EvaluationWorld:
    """The same staff and teams without anyone on them, for the form's tests."""
    return build_evaluation_world(people_on_north=0, people_on_south=0)


def signed_in(user: User, **headers: str) -> Client:
    client = Client(headers=headers)
    client.force_login(user)
    return client


# ---------------------------------------------------------------- the form


def test_the_form_explains_itself_and_offers_the_choices(staff):
    page = signed_in(staff.sol).get("/staff/evaluation/").content.decode()
    assert "Only episodes of people whose consent covers evaluation are included" in page
    assert "counts of 1\u20137 are shown as *" in page  # Sol reads from outside the care team
    for choice in ("Detox", "Peer bridged (introduced or accompanied)", "Attended mutual aid within 28 days"):
        assert choice in page
    assert "Northshore Recovery, South" in page and "Northshore Recovery, North" in page
    assert 'action="/staff/evaluation/report/"' in page and 'method="get"' in page


def test_a_team_manager_is_not_told_about_suppression(staff):
    page = signed_in(staff.tess).get("/staff/evaluation/").content.decode()
    assert "counts of 1\u20137 are shown as *" not in page
    # One team in scope: no team choice to make.
    assert "Northshore Recovery, North" not in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("treatment=peer_bridged&estimand=ate", "outcomes", "Choose at least one outcome."),
        (QUERY.replace("estimand=ate", "estimand=late"), "estimand", "Select a valid choice."),
        (
            QUERY.replace("treatment=peer_bridged", "treatment=referred_rehab"),
            "treatment",
            "Select a valid choice.",
        ),
        (QUERY + "&started_from=2026-13-01", "started_from", "Enter a valid date."),
        (
            QUERY + "&started_from=2026-05-01&started_to=2026-04-01",
            "started_to",
            "This date is before the first one",
        ),
        (QUERY + "&trim=0.5", "trim", "Select a valid choice."),
        (QUERY + "&episode_kinds=holiday", "episode_kinds", "Select a valid choice."),
        (QUERY + "&outcomes=age", "outcomes", "Select a valid choice."),
    ],
)
def test_bad_input_is_the_form_again_with_the_error_by_the_field(staff, query, field, message):
    response = signed_in(staff.sol).get(f"{REPORT}?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and f'id="id_{field}_error"' in page
    error = page.split(f'id="id_{field}_error">', 1)[1].split("</p>", 1)[0]
    assert message in error


def test_a_team_outside_the_scope_is_refused_as_a_bad_choice(staff):
    elsewhere = Team.objects.create(
        organisation=Organisation.objects.create(name="Elsewhere", kind=OrganisationKind.TREATMENT),
        name="Far",
    )
    response = signed_in(staff.tess).get(f"{REPORT}?{QUERY}&teams={elsewhere.pk}")
    assert response.status_code == 400 and 'id="id_teams_error"' in response.content.decode()
    assert not AuditEvent.objects.filter(object_type="evaluation.cohort").exists()


# ---------------------------------------------------------------- the report


def analysed(page: str) -> str:
    """The cohort table's "Episodes analysed" figure as the page shows it."""
    found = re.search(r"Episodes analysed</th><td[^>]*>([^<]*)</td>", page)
    assert found, "no Episodes analysed row"
    return found.group(1)


def report_for(user: User, query: str = QUERY, path: str = REPORT, **headers: str):
    return signed_in(user, **headers).get(f"{path}?{query}")


def released_counts(csv_text: str) -> list[str]:
    return [row["value"] for row in csv.DictReader(io.StringIO(csv_text)) if row["kind"] == "count"]


@pytest.mark.django_db
def test_tess_reads_her_teams_report_with_exact_counts(northshore):
    response = report_for(northshore.tess)
    assert response.status_code == 200
    page = response.content.decode()
    for heading in ("Who is in the cohort", "Programme effect", "Attended mutual aid within 28 days"):
        assert heading in page
    # 40 of North's 44 people agreed to evaluation; the other 4 are counted, never shown.
    assert analysed(page) == "40"
    assert "does not cover evaluation: 4." in page
    assert "Evan3" not in page and "RB-EVAL" not in page
    # The plain comparison beside the adjusted ones, and the balance before and after weighting.
    for method in (
        "Simple comparison (no adjustment)",
        "Weighted so the groups are alike",
        "Weighted and modelled (main estimate)",
        "Matched with similar people",
        "Compared within bands of similar people",
    ):
        assert method in page
    # The statisticians' terms are in the details and the glossary, not the main text.
    assert "inverse probability weighting (IPW" in page.split('<details class="technical">', 1)[1]
    assert "What the words mean" in page
    assert "Balance: standardised mean differences" in page
    assert "<svg" in page and "<title" in page
    assert "counts of 1\u20137 are shown as *" not in page
    assert 'href="/staff/evaluation/report.pdf?' in page and 'href="/staff/evaluation/report.csv?' in page


@pytest.mark.django_db
def test_tess_chooses_what_the_estimates_adjust_for(northshore):
    both = report_for(northshore.tess, QUERY + "&covariates=age&covariates=on_moud").content.decode()
    table = csv.DictReader(
        io.StringIO(
            report_for(northshore.tess, QUERY + "&covariates=age", "/staff/evaluation/report.csv").text
        )
    )
    assert {r["row"] for r in table if r["table"] == "balance"} == {"age"}
    assert "Age</th>" in both and "On medication for opioid use disorder</th>" in both
    assert "Recovery capital at baseline</th>" not in both
    # None ticked: every characteristic, as the form says.
    every = report_for(northshore.tess, QUERY).content.decode()
    assert "Recovery capital at baseline</th>" in every


@pytest.mark.django_db
def test_sol_reads_the_service_report_with_small_counts_hidden(northshore):
    # North's 40 and South's 13 consented episodes (53, shown rounded); 4 + 1 left out for lack of consent.
    page = report_for(northshore.sol).content.decode()
    assert "counts of 1\u20137 are shown as *; other counts are rounded to the nearest 5" in page
    assert analysed(page) == "55"
    assert "does not cover evaluation: *." in page
    counts = released_counts(report_for(northshore.sol, path="/staff/evaluation/report.csv").content.decode())
    assert "*" in counts
    assert all(value == "*" or int(value) % 5 == 0 for value in counts)
    # Tess's own figures are exact, so some are not multiples of 5.
    exact = released_counts(report_for(northshore.tess, path="/staff/evaluation/report.csv").content.decode())
    assert "*" not in exact and any(int(value) % 5 for value in exact)


@pytest.mark.django_db
def test_the_pdf_is_the_same_report(northshore):
    response = report_for(northshore.sol, path="/staff/evaluation/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content[:5] == b"%PDF-"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for heading in ("Who is in the cohort", "Programme effect", "Balance: standardised mean differences"):
        assert heading in text
    assert "Evan" not in text


@pytest.mark.django_db
def test_the_csv_holds_the_tables(northshore):
    response = report_for(northshore.tess, path="/staff/evaluation/report.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="evaluation-report.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["section", "part", "table", "row", "column", "kind", "value"]
    episodes = next(r for r in rows if r["table"] == "summary" and r["row"] == "episodes")
    assert episodes["value"] == "40"
    assert {r["section"] for r in rows} >= {"cohort", "funnels", "effects"}


@pytest.mark.django_db
def test_every_report_read_is_audited_without_personal_data(northshore):
    before = AuditEvent.objects.filter(object_type="evaluation.cohort").count()
    report_for(northshore.tess)
    report_for(northshore.tess, path="/staff/evaluation/report.csv")
    events = list(AuditEvent.objects.filter(object_type="evaluation.cohort").order_by("id"))[before:]
    assert len(events) == 2
    for event in events:
        assert event.actor == northshore.tess and event.action == AuditAction.VIEW and event.person_id is None
        recorded = f"{event.detail} {event.changes}"
        assert "40 episodes" in event.detail
        for person in northshore.people:
            assert person.reference not in recorded and person.given_name not in recorded


@pytest.mark.django_db
def test_an_empty_or_tiny_cohort_gets_a_message_not_a_report(northshore):
    empty = report_for(northshore.tess, QUERY + "&started_from=2099-01-01")
    assert empty.status_code == 200
    assert "No episodes with consent to evaluation match this cohort." in empty.content.decode()
    # The last few weeks' detox starts, on both teams: two episodes.
    recent = f"{QUERY}&started_from={timezone.localdate() - datetime.timedelta(days=120)}"
    tiny = report_for(northshore.sol, recent).content.decode()
    assert "too few to compare fairly" in tiny and "Programme effect" not in tiny
    pdf = report_for(northshore.sol, recent, path="/staff/evaluation/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"].startswith("text/html")


# ---------------------------------------------------------------- built once, read many times


def read(user: User, query: str = QUERY, path: str = REPORT) -> tuple[str, bool]:
    """The response's text, and whether serving it read the episodes (built the cohort again)."""
    with CaptureQueriesContext(connection) as queries:
        response = report_for(user, query, path)
    assert response.status_code == 200
    built = any(Episode._meta.db_table in query["sql"] for query in queries.captured_queries)
    return response.content.decode(), built


def cohort_reads() -> int:
    return AuditEvent.objects.filter(object_type="evaluation.cohort").count()


@pytest.fixture
def nothing_cached(northshore):
    caches["evaluation"].clear()  # inside the test's transaction, like every entry it writes
    return northshore


@pytest.mark.django_db
def test_the_csv_and_a_reload_after_the_page_reuse_its_report_and_are_still_audited(nothing_cached):
    tess = nothing_cached.tess
    before = cohort_reads()
    page, built = read(tess)
    assert built and analysed(page) == "40"
    # Tess downloads the CSV, with the outcomes in another order (the same report), then reloads.
    reordered = QUERY.replace(
        "outcomes=mutual_aid_28d&outcomes=treatment_completed",
        "outcomes=treatment_completed&outcomes=mutual_aid_28d",
    )
    table, built = read(tess, reordered, "/staff/evaluation/report.csv")
    assert not built
    assert next(r for r in csv.DictReader(io.StringIO(table)) if r["row"] == "episodes")["value"] == "40"
    again, built = read(tess)
    assert not built
    assert again.split("<h1", 1)[1] == page.split("<h1", 1)[1]  # the same report (the form tokens differ)
    # Each of the three was a read of health data: three audit events with the counts shown.
    events = list(AuditEvent.objects.filter(object_type="evaluation.cohort").order_by("id"))[before:]
    assert len(events) == 3
    assert all(e.actor == tess and "40 episodes, 4 without consent" in e.detail for e in events)


@pytest.mark.django_db
def test_other_choices_or_another_scope_build_their_own_report(nothing_cached):
    read(nothing_cached.tess)
    _page, built = read(nothing_cached.tess, QUERY.replace("estimand=ate", "estimand=att"))
    assert built
    _page, built = read(nothing_cached.tess, QUERY + "&trim=0.05")
    assert built
    # Sol, whose scope is both teams, asks for exactly what Tess asked for.
    page, built = read(nothing_cached.sol)
    assert built and analysed(page) == "55"


@pytest.mark.django_db
def test_a_consent_revoked_after_a_report_is_not_answered_from_it(nothing_cached):
    tess = nothing_cached.tess
    page, _built = read(tess)
    assert analysed(page) == "40"
    # One of North's people withdraws their consent to evaluation a minute later.
    consent = Consent.objects.filter(
        purpose=ConsentPurpose.EVALUATION, person__team=nothing_cached.north, revoked_at=None
    ).first()
    actions.revoke_consent(nothing_cached.pim, consent)
    page, built = read(tess)
    assert built and analysed(page) == "39"


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["una", "sol"])
def test_exact_and_suppressed_reports_of_the_same_teams_are_never_shared(nothing_cached, first):
    # Una manages both of Northshore's teams: Sol's teams, but inside the care team.
    una = User.objects.create_user("una")
    for team in (nothing_cached.north, nothing_cached.south):
        Membership.objects.create(user=una, team=team, role=Role.TEAM_MANAGER)
    readers = {"una": una, "sol": nothing_cached.sol}
    second = "sol" if first == "una" else "una"
    read(readers[first])
    page, built = read(readers[second])
    assert built
    if second == "una":  # 40 + 13 consented episodes, exact
        assert analysed(page) == "53" and "shown as *" not in page
    else:
        assert analysed(page) == "55" and "shown as *" in page


@pytest.mark.django_db
def test_the_report_speaks_spanish(northshore):
    form = (
        signed_in(northshore.sol, accept_language="es-MX,es;q=0.9").get("/staff/evaluation/").content.decode()
    )
    assert '<html lang="es">' in form and "Informes de evaluación" in form
    assert "Acompañamiento entre pares (presentado o acompañado)" in form
    client = signed_in(northshore.sol)
    client.cookies["django_language"] = "es"
    page = client.get(f"{REPORT}?{QUERY}").content.decode()
    for text in (
        "Quién está en la cohorte",
        "Efecto del programa",
        "Equilibrio: diferencias de medias estandarizadas",
    ):
        assert text in page
    assert "los recuentos de 1\u20137 se muestran como *" in page
    errors = client.get(f"{REPORT}?treatment=peer_bridged&estimand=ate")
    assert errors.status_code == 400 and "Elija al menos un resultado." in errors.content.decode()
