"""Bob's referral of Pat is kept as he goes: going back, recording consent, adding Pat's sister,
correcting Pat's details, signing out and coming back the next day lose nothing. A draft is
Bob's alone, is discarded when it is sent or REFERRAL_DRAFT_DAYS after it was last saved (by the
daily task, run here on the real task worker), and every step of it is in the audit trail."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions, queries
from recoverybridge.care.drafts import Answers, Matters
from recoverybridge.care.models import Barrier, ConsentPurpose, Referral, ReferralDraft
from recoverybridge.care.tasks import discard_expired_drafts
from tests.care.wizard_steps import answer, choose, presented_ids, start, step_url
from tests.care_world import build_world
from tests.factories import make_location, make_meeting


@pytest.fixture
def meetings(world):
    town = make_location(
        name="Town Hall", latitude=50.873, longitude=0.009, city="Lewes", timezone="Europe/London"
    )
    return [
        make_meeting("smart", location=town, name="Lewes SMART", start_time=time(18, 0)),
        make_meeting("aa", location=town, name="Lewes AA"),
        make_meeting("na", location=town, name="Lewes NA", moud_stance="welcoming"),
    ]


@pytest.fixture
def bob(world, client):
    client.force_login(world.bob)
    return client


def everything(client, draft, meetings, world):
    """Answer every step: what matters, options, Bridge (with consent), contact, follow-ups."""
    ids = [m.pk for m in meetings]
    choose(client, draft, ids, ids[:2])
    target = {"target_kind": "other_service", "organisation": world.bridge.pk, "reason": "Peer support"}
    answer(client, draft, "target", target)
    answer(client, draft, "contact", {"introduction": "call", "introduction_note": "Mornings"})
    soon = (timezone.localdate() + timedelta(days=3)).isoformat()
    answer(client, draft, "follow-up", {"follow_up": [soon]})
    draft.refresh_from_db()
    return draft.answers


def test_going_back_keeps_every_answer(world, bob, meetings):
    draft, _options = start(bob, world.pat, barriers=["transport", "childcare"], barrier_note="Two children")
    saved = everything(bob, draft, meetings, world)
    for step in ("follow-up", "contact", "target", "options", "matters"):  # back, step by step
        assert bob.get(step_url(draft, step)).status_code == 200
    draft.refresh_from_db()
    assert draft.answers == saved
    # Back from the options to what matters: the choices are still ticked.
    options = bob.get(step_url(draft, "options")).content.decode()
    for pk in saved["chosen"]:
        assert f'value="{pk}" id="chosen-{pk}" checked' in options
    matters = bob.get(step_url(draft, "matters")).content.decode()
    assert 'value="transport" id="id_barriers_0" checked' in matters and "Two children</textarea>" in matters


def test_going_back_from_a_step_saves_it_first(world, bob, meetings):
    draft, options = start(bob, world.pat)
    ids = presented_ids(options)
    response = bob.post(step_url(draft, "options"), {"presented": ids, "chosen": ids[:1], "go": "back"})
    assert response["Location"] == step_url(draft, "matters")
    draft.refresh_from_db()
    assert draft.answers["chosen"] == ids[:1] and draft.step == "matters"


def test_the_consent_detour_loses_nothing(world, bob, meetings):
    draft, _options = start(bob, world.pat, barriers=["work_hours"])
    saved = everything(bob, draft, meetings, world)
    body = bob.get(step_url(draft, "target")).content.decode()
    assert "Consent needed" in body
    consent = f"/staff/people/{world.pat.pk}/consent/?purpose=referral&recipient={world.bridge.pk}&next={step_url(draft, 'target')}"
    form = bob.get(consent)
    assert (
        form.status_code == 200 and f'href="{step_url(draft, "target")}"' in form.content.decode()
    )  # Cancel goes back
    done = bob.post(consent, {"purpose": "referral", "recipient": world.bridge.pk})
    assert done["Location"] == step_url(draft, "target")
    draft.refresh_from_db()
    assert draft.answers == saved
    assert "Consent needed" not in bob.get(step_url(draft, "target")).content.decode()


def test_adding_a_related_person_and_correcting_details_lose_nothing(world, bob, meetings):
    draft, _options = start(bob, world.pat, barriers=["privacy"])
    saved = everything(bob, draft, meetings, world)
    here = step_url(draft, "matters")
    page = bob.get(here).content.decode()
    related = f"/staff/people/{world.pat.pk}/related/new/?next={here}"
    assert related in page
    added = bob.post(related, {"name": "Jo Example", "relationship": "sister"})
    assert added["Location"] == here
    edit = f"/staff/people/{world.pat.pk}/edit/?next={here}"
    details = {
        "team": world.detox.pk,
        "given_name": "Pat",
        "family_name": "Example",
        "place": world.pat.postcode,
        "preferred_language": "en",
        "spiritual_preference": "none",
        "attendance_preference": "either",
        "group_gender_preference": "any",
        "time_zone": "Europe/London",
    }
    assert bob.post(edit, details)["Location"] == here
    draft.refresh_from_db()
    assert draft.answers == saved
    assert world.pat.related_people.count() == 1


def test_leaving_and_coming_back_tomorrow(world, meetings):
    first = Client()
    first.force_login(world.bob)
    draft, _options = start(first, world.pat, barriers=["doubts"])
    choose(first, draft, [m.pk for m in meetings], [meetings[0].pk])
    first.logout()

    tomorrow = Client()  # another day, another session
    tomorrow.force_login(world.bob)
    timeline = tomorrow.get(f"/staff/people/{world.pat.pk}/").content.decode()
    started = timezone.localdate(draft.started_at)
    assert (
        "Carry on with the referral started on" in timeline
        and f"/staff/referral-drafts/{draft.pk}/" in timeline
    )
    assert "Carry on with the referral</a>" in timeline  # the action bar's button too
    resumed = tomorrow.get(f"/staff/people/{world.pat.pk}/refer/")
    assert resumed["Location"] == step_url(draft, "target")  # where he was going next
    assert tomorrow.get(f"/staff/referral-drafts/{draft.pk}/")["Location"] == step_url(draft, "target")
    queue = tomorrow.get("/staff/queue/").content.decode()
    assert "Carry on with Pat Example" in queue
    assert started == timezone.localdate()


def test_drafts_are_kept_for_the_set_time_after_the_last_save(world, settings):
    settings.REFERRAL_DRAFT_DAYS = 3
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    draft = actions.start_referral_draft(world.bob, world.pat, now=now)
    assert draft.expires_at == now + timedelta(days=3)
    later = now + timedelta(days=2)
    actions.save_referral_draft(world.bob, draft, Answers.start(world.pat), step="options", now=later)
    draft.refresh_from_db()
    assert draft.expires_at == later + timedelta(days=3)  # saving extends it
    assert (
        queries.draft_of(world.bob, world.pat, now=later + timedelta(days=3) - timedelta(seconds=1)) == draft
    )
    assert queries.draft_of(world.bob, world.pat, now=later + timedelta(days=3)) is None
    # Starting again after that replaces it (even before the clean-up task has run).
    fresh = actions.start_referral_draft(world.bob, world.pat, now=later + timedelta(days=4))
    assert fresh.pk != draft.pk and ReferralDraft.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, detail="referral draft expired").count() == 1


def test_an_expired_draft_is_neither_shown_nor_opened(world, bob):
    long_ago = timezone.now() - timedelta(days=30)
    draft = actions.start_referral_draft(world.bob, world.pat, now=long_ago)
    assert "Carry on with the referral" not in bob.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert bob.get(step_url(draft, "matters")).status_code == 404
    assert bob.get(f"/staff/people/{world.pat.pk}/refer/").status_code == 200  # a fresh start


# The worker commits and locks rows itself, so this test really commits; serialized_rollback
# puts back the migrations' data (fellowships, vocabulary) that the flush afterwards removes.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_daily_task_deletes_expired_drafts_on_the_real_worker():
    world = build_world()
    now = timezone.now()
    expired = actions.start_referral_draft(world.bob, world.pat, now=now - timedelta(days=8))
    kept = actions.start_referral_draft(world.dave, world.quinn, now=now - timedelta(days=6))

    discard_expired_drafts.enqueue()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    assert list(ReferralDraft.objects.values_list("pk", flat=True)) == [kept.pk]
    gone = AuditEvent.objects.get(
        action=AuditAction.DELETE, object_id=str(expired.pk), object_type="care.referraldraft"
    )
    assert gone.actor is None and gone.person_id == world.pat.pk and gone.detail == "referral draft expired"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_daily_command_queues_the_clean_up():
    from django_tasks_db.models import DBTaskResult

    call_command("enqueue_daily", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (
        DBTaskResult.objects.filter(task_path="recoverybridge.care.tasks.discard_expired_drafts").count() == 1
    )


def test_sending_discards_the_draft_and_a_refused_send_keeps_it(world, bob, meetings):
    draft, _options = start(bob, world.pat)
    saved = everything(bob, draft, meetings, world)
    refused = bob.post(step_url(draft, "review"))  # no consent for Bridge yet
    assert refused.status_code == 400
    draft.refresh_from_db()
    assert draft.answers == saved and not Referral.objects.exists()
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    assert bob.post(step_url(draft, "review")).status_code == 302
    assert not ReferralDraft.objects.exists()
    sent = AuditEvent.objects.get(action=AuditAction.DELETE, object_type="care.referraldraft")
    assert sent.detail == f"referral draft sent as referral {Referral.objects.get().pk}"


def test_an_incomplete_draft_says_what_is_missing(world, bob, meetings):
    draft, _options = start(bob, world.pat)
    response = bob.post(step_url(draft, "review"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose what to refer them to." in body and f'href="{step_url(draft, "target")}"' in body
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    actions.save_referral_draft(
        world.bob,
        draft,
        Answers(
            matters=Matters.of(world.pat),
            chosen=[meetings[0].pk],
            follow_ups=[past],
            presented=[meetings[0].pk],
        ),
        step="review",
    )
    body = bob.post(step_url(draft, "review")).content.decode()
    assert "is in the past: move it or remove it." in body


def test_discarding_a_draft(world, bob):
    draft = actions.start_referral_draft(world.bob, world.pat)
    response = bob.post(f"/staff/referral-drafts/{draft.pk}/discard/")
    assert response["Location"] == f"/staff/people/{world.pat.pk}/"
    assert not ReferralDraft.objects.exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.DELETE, detail="referral draft discarded", actor=world.bob
    ).exists()


def test_the_trail_records_each_step_but_not_what_notes_say(world, bob, meetings):
    draft, _options = start(bob, world.pat, barriers=["transport"], barrier_note="Lives by the bypass")
    events = AuditEvent.objects.filter(object_type="care.referraldraft", object_id=str(draft.pk))
    assert list(events.order_by("id").values_list("action", flat=True)) == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
    ]
    saved = events.get(action=AuditAction.UPDATE)
    assert saved.changes["barriers"]["new"] == ["transport"]
    assert saved.changes["note"] == {"old": "[hidden]", "new": "[hidden]"}
    assert "bypass" not in str(saved.changes)


def test_answers_from_an_older_or_broken_draft_still_open(world):
    broken = {
        "matters": {"approaches": ["nonsense", "secular"], "gender": "other", "language": 7},
        "barriers": ["transport", "teleport", 3],
        "chosen": [1, "2", True, 1],
        "target": "meeting",
        "follow_ups": "soon",
        "visited": ["matters", "elsewhere"],
    }
    answers = Answers.from_json(broken, world.pat)
    assert answers.matters.approaches == ["secular"] and answers.matters.gender == "any"
    assert answers.matters.language == world.pat.preferred_language
    assert answers.barriers == [Barrier.TRANSPORT]
    assert answers.chosen == [1] and answers.target.kind == "" and answers.follow_ups is None
    assert answers.visited == ["matters"]
    assert Answers.from_json(None, world.pat) == Answers.start(world.pat)


def test_sending_with_remember_keeps_what_matters_on_their_record(world, bob, meetings):
    draft, _options = start(bob, world.pat, attendance="online", spiritual="secular", remember="on")
    choose(bob, draft, [m.pk for m in meetings], [meetings[0].pk])
    answer(bob, draft, "target", {"target_kind": "meeting", "meeting": meetings[0].pk})
    assert bob.post(step_url(draft, "review")).status_code == 302
    world.pat.refresh_from_db()
    assert (world.pat.attendance_preference, world.pat.spiritual_preference) == ("online", "secular")
