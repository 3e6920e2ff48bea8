"""Introductions: double opt-in, only the agreed fields and only after both said yes, every
disclosure one audit event, expiry, either side ends it, a revoked consent ends it, and a
safety report reaches the coordinator. The permission matrix at the end."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import AssistedStep, Consent, ConsentPurpose, MutualAidMilestone
from recoverybridge.volunteers import actions, queries
from recoverybridge.volunteers.errors import AlreadyOpen, IntroductionError, LinkUnusable, NotAvailable
from recoverybridge.volunteers.models import (
    EndedBy,
    Introduction,
    IntroductionState,
    SafetyReport,
    VolunteerStatus,
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def arrange(volunteers, volunteer=None, **fields) -> Introduction:
    defaults = {"chosen_name": "Pat", "looking_for": "someone to go with me", "channel": "email"}
    defaults.update(fields)
    return actions.arrange_introduction(
        volunteers.world.bob, volunteers.referral.introduction, volunteer or volunteers.sol, **defaults
    )


def disclosures(introduction: Introduction):
    return AuditEvent.objects.filter(person_id=introduction.person_id, changes__has_key="disclosed_to")


def connected(volunteers, django_capture_on_commit_callbacks) -> tuple[Introduction, str]:
    introduction = arrange(volunteers)
    with django_capture_on_commit_callbacks(execute=True):
        token = actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        actions.answer_as_person(token, accept=True)
    introduction.refresh_from_db()
    return introduction, token


def test_suggestions_rank_the_group_they_chose_first_with_reasons(volunteers):
    found = queries.suggestions(volunteers.world.bob, volunteers.referral.introduction)
    assert [s.volunteer.first_name for s in found] == ["Sol", "Mo"]
    assert "a member of the group they chose" in found[0].reasons
    # Two approaches within reach: both offered (information parity).
    assert {s.match.approach for s in found} == {"twelve-step", "secular"}
    # A volunteer's or coordinator's pool is empty: matching is for care teams.
    assert queries.suggestions(volunteers.sol.user, volunteers.referral.introduction) == []


def test_arranging_records_its_own_consent_and_tells_the_volunteer_nothing_about_who(
    volunteers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        introduction = arrange(volunteers)
    consent = introduction.consent
    assert consent.purpose == ConsentPurpose.INTRODUCTION and consent.person == volunteers.world.pat
    assert introduction.state == IntroductionState.OFFERED
    [notice] = mail.outbox
    assert notice.to == ["sol@members.example.org"]
    for secret in ("Pat", "Example", "pat@example.net", "RB-PAT"):
        assert secret not in notice.body
    assert not disclosures(introduction).exists()
    with pytest.raises(AlreadyOpen):
        arrange(volunteers, volunteers.mo)


def test_a_volunteer_who_is_paused_or_full_cannot_be_asked(volunteers):
    actions.set_volunteer_status(volunteers.vera, volunteers.sol, VolunteerStatus.PAUSED)
    with pytest.raises(NotAvailable):
        arrange(volunteers)
    assert not Introduction.objects.exists() and not Consent.objects.filter(purpose="introduction").exists()


def test_double_opt_in_then_contact_details_both_ways_each_disclosure_audited_once(
    volunteers, django_capture_on_commit_callbacks
):
    introduction = arrange(volunteers)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        token = actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)
    [link] = mail.outbox
    assert link.to == ["pat@example.net"] and reverse("volunteers:answer", args=[token]) in link.body
    assert "Sol" not in link.body  # who offered is behind the link
    before = disclosures(introduction).count()  # the link message to Pat: one, to the person
    assert before == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.answer_as_person(token, accept=True)
    to_person, to_volunteer = sorted(mail.outbox, key=lambda m: m.to[0] != "pat@example.net")
    assert to_person.to == ["pat@example.net"] and "Sol, +447700900123" in to_person.body
    assert to_volunteer.to == ["sol@members.example.org"]
    assert "Name: Pat" in to_volunteer.body and "pat@example.net" in to_volunteer.body
    for clinical in ("Example", "1985", "RB-PAT", "detox", "Detox", "MOUD", "+447911123456"):
        assert clinical not in to_volunteer.body
    new = disclosures(introduction).order_by("id")[before:]
    recipients = sorted(e.changes["disclosed_to"]["new"]["recipient"] for e in new)
    assert recipients == ["member", "person"]
    [to_member] = [e for e in new if e.changes["disclosed_to"]["new"]["recipient"] == "member"]
    assert to_member.changes["disclosed_to"]["new"]["basis"] == f"consent {introduction.consent_id}"
    introduction.refresh_from_db()
    assert introduction.state == IntroductionState.CONNECTED


def test_the_volunteer_sees_only_coded_needs_before_and_only_agreed_fields_after(
    volunteers, django_capture_on_commit_callbacks
):
    introduction = arrange(volunteers, looking_for="a lift to the Tuesday group")
    page = client_for(volunteers.sol.user).get(reverse("volunteers:introduction", args=[introduction.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "Yes, I can" in body
    for hidden in ("Pat", "pat@example.net", "a lift to the Tuesday group", "RB-PAT", "km away"):
        assert hidden not in body
    with django_capture_on_commit_callbacks(execute=True):
        token = actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)
    body = (
        client_for(volunteers.sol.user)
        .get(reverse("volunteers:introduction", args=[introduction.pk]))
        .content
    )
    assert b"Pat" not in body  # the person has not said yes yet
    with django_capture_on_commit_callbacks(execute=True):
        actions.answer_as_person(token, accept=True)
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="volunteers.introduction").count()
    body = (
        client_for(volunteers.sol.user)
        .get(reverse("volunteers:introduction", args=[introduction.pk]))
        .content
    )
    text = body.decode()
    assert "Pat" in text and "a lift to the Tuesday group" in text
    for hidden in ("Example", "pat@example.net", "+447911123456", "RB-PAT", "Detox"):
        assert hidden not in text, hidden
    assert (
        AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="volunteers.introduction").count()
        == views + 1
    )


def test_the_volunteer_declines_without_learning_anything(volunteers):
    introduction = arrange(volunteers)
    assert actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=False) == ""
    introduction.refresh_from_db()
    assert introduction.state == IntroductionState.DECLINED and introduction.ended_by == EndedBy.VOLUNTEER
    assert not disclosures(introduction).exists()
    # The request is free for another volunteer.
    arrange(volunteers, volunteers.mo)


def test_the_person_declines_through_the_link_and_nothing_is_shared(
    volunteers, django_capture_on_commit_callbacks
):
    introduction = arrange(volunteers)
    with django_capture_on_commit_callbacks(execute=True):
        token = actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)
    mail.outbox.clear()
    page = Client().post(reverse("volunteers:answer", args=[token]), {"form": "decline"})
    assert page.status_code == 200
    introduction.refresh_from_db()
    assert introduction.state == IntroductionState.ENDED and introduction.ended_by == EndedBy.PERSON
    assert mail.outbox == []
    assert Client().get(reverse("volunteers:answer", args=[token])).status_code == 410


def test_offers_expire(volunteers):
    introduction = arrange(volunteers)
    later = timezone.now() + datetime.timedelta(days=8)
    assert actions.expire_introductions(now=later) == 1
    introduction.refresh_from_db()
    assert introduction.state == IntroductionState.EXPIRED
    with pytest.raises(IntroductionError):
        actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)


def test_an_unanswered_link_stops_working_when_it_expires(volunteers, django_capture_on_commit_callbacks):
    introduction = arrange(volunteers)
    with django_capture_on_commit_callbacks(execute=True):
        token = actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)
    with pytest.raises(LinkUnusable):
        actions.answer_as_person(token, accept=True, now=timezone.now() + datetime.timedelta(days=8))


@pytest.mark.parametrize("side", ["volunteer", "worker", "person"])
def test_either_side_ends_it(volunteers, django_capture_on_commit_callbacks, side):
    introduction, token = connected(volunteers, django_capture_on_commit_callbacks)
    if side == "volunteer":
        actions.end_introduction(volunteers.sol.user, introduction)
    elif side == "worker":
        actions.end_introduction(volunteers.world.bob, introduction)
    else:
        Client().post(reverse("volunteers:answer", args=[token]), {"form": "end"})
    introduction.refresh_from_db()
    assert introduction.state == IntroductionState.ENDED and introduction.ended_by == side
    assert (
        not Introduction.objects.restrict(volunteers.sol.user, "agreed").filter(pk=introduction.pk).exists()
    )


def test_a_revoked_consent_ends_the_introduction(volunteers, django_capture_on_commit_callbacks):
    introduction, token = connected(volunteers, django_capture_on_commit_callbacks)
    care.revoke_consent(volunteers.world.bob, introduction.consent)
    introduction.refresh_from_db()
    assert introduction.state == IntroductionState.ENDED and introduction.ended_by == EndedBy.CONSENT
    body = (
        client_for(volunteers.sol.user)
        .get(reverse("volunteers:introduction", args=[introduction.pk]))
        .content
    )
    assert b"Pat" not in body
    assert Client().get(reverse("volunteers:answer", args=[token])).status_code == 410


def test_a_safety_report_reaches_the_coordinator_only(volunteers, django_capture_on_commit_callbacks):
    _introduction, token = connected(volunteers, django_capture_on_commit_callbacks)
    volunteers.vera.email = "vera@bridge.example.org"
    volunteers.vera.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            reverse("volunteers:answer", args=[token]), {"form": "report", "text": "They were rude to me."}
        )
    [notice] = mail.outbox
    assert notice.to == ["vera@bridge.example.org"] and "rude" not in notice.body
    report = SafetyReport.objects.get()
    assert report.by_person
    event = AuditEvent.objects.get(object_type="volunteers.safetyreport")
    assert "rude" not in str(event.changes)
    assert b"They were rude to me." in client_for(volunteers.vera).get(reverse("volunteers:reports")).content
    assert b"rude" not in client_for(volunteers.val).get(reverse("volunteers:reports")).content
    client_for(volunteers.vera).post(reverse("volunteers:reports"), {"report": report.pk})
    report.refresh_from_db()
    assert report.handled_by == volunteers.vera


def test_recording_the_first_meeting_sets_the_referral_milestone(
    volunteers, django_capture_on_commit_callbacks
):
    introduction, _token = connected(volunteers, django_capture_on_commit_callbacks)
    response = client_for(volunteers.sol.user).post(
        reverse("volunteers:introduction", args=[introduction.pk]),
        {"form": "meeting", "met_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    introduction.refresh_from_db()
    referral = volunteers.referral
    referral.refresh_from_db()
    assert introduction.state == IntroductionState.MET
    assert referral.business_status == MutualAidMilestone.ATTENDED_FIRST
    step = AssistedStep.objects.get(referral=referral)
    assert step.kind == "introduced" and step.by == volunteers.sol.user
    assert referral.introduction.status == "introduced"
    # Once only; and not before both said yes.
    with pytest.raises(IntroductionError):
        actions.record_first_meeting(volunteers.world.bob, introduction, on=timezone.localdate())


def test_a_first_meeting_cannot_be_recorded_before_contact(volunteers):
    introduction = arrange(volunteers)
    with pytest.raises(PermissionDenied):
        actions.record_first_meeting(volunteers.sol.user, introduction, on=timezone.localdate())
    assert AuditEvent.objects.filter(
        action=AuditAction.DENIED, object_type="volunteers.introduction"
    ).exists()


def test_the_arrange_page_walks_it_with_the_form(volunteers, django_capture_on_commit_callbacks):
    client = client_for(volunteers.world.bob)
    url = reverse("volunteers:arrange", args=[volunteers.referral.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Sol" in page.content and b"Mo" in page.content
    refused = client.post(url, {"volunteer": volunteers.sol.pk, "chosen_name": "Pat", "channel": "email"})
    assert refused.status_code == 400  # they have not agreed yet
    assert not Introduction.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            url, {"volunteer": volunteers.sol.pk, "chosen_name": "Pat", "channel": "email", "agreed": "on"}
        )
    assert done.status_code == 302 and Introduction.objects.get().volunteer == volunteers.sol
    assert re.search(rb"Waiting for the volunteer", client.get(url).content)


# ---------------------------------------------------------------- the permission matrix

# Who may do what to one introduction: (user, action) -> before both said yes / after.
MATRIX = {
    "sol": {
        "view": (True, True),
        "answer": (True, True),
        "agreed": (False, True),
        "arrange": (False, False),
        "meet": (False, True),
    },
    "mo": {
        "view": (False, False),
        "answer": (False, False),
        "agreed": (False, False),
        "arrange": (False, False),
        "meet": (False, False),
    },
    "bob": {
        "view": (True, True),
        "answer": (False, False),
        "agreed": (False, False),
        "arrange": (True, True),
        "meet": (False, True),
    },
    "dave": {
        "view": (False, False),
        "answer": (False, False),
        "agreed": (False, False),
        "arrange": (False, False),
        "meet": (False, False),
    },
    "vera": {
        "view": (True, True),
        "answer": (False, False),
        "agreed": (False, False),
        "arrange": (False, False),
        "meet": (False, False),
    },
    "val": {
        "view": (False, False),
        "answer": (False, False),
        "agreed": (False, False),
        "arrange": (False, False),
        "meet": (False, False),
    },
    "cora": {
        "view": (False, False),
        "answer": (False, False),
        "agreed": (False, False),
        "arrange": (False, False),
        "meet": (False, False),
    },
}


def user_named(volunteers, name):
    if name in ("sol", "mo"):
        return getattr(volunteers, name).user
    if name in ("vera", "val"):
        return getattr(volunteers, name)
    return volunteers.world.user(name)


def test_the_permission_matrix(volunteers, django_capture_on_commit_callbacks):
    introduction = arrange(volunteers)

    def table():
        return {
            name: {
                action: Introduction.objects.restrict(user_named(volunteers, name), action)
                .filter(pk=introduction.pk)
                .exists()
                for action in actions_
            }
            for name, actions_ in MATRIX.items()
        }

    before = table()
    with django_capture_on_commit_callbacks(execute=True):
        token = actions.answer_as_volunteer(volunteers.sol.user, introduction, accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        actions.answer_as_person(token, accept=True)
    after = table()
    expected_before = {n: {a: v[0] for a, v in row.items()} for n, row in MATRIX.items()}
    expected_after = {n: {a: v[1] for a, v in row.items()} for n, row in MATRIX.items()}
    assert before == expected_before
    assert after == expected_after
    # The pages agree: out of scope is a 404, never a hint that it exists.
    for name in ("mo", "dave", "val", "cora"):
        url = reverse("volunteers:introduction", args=[introduction.pk])
        assert client_for(user_named(volunteers, name)).get(url).status_code == 404, name
    # A person's record stays closed to the volunteer and the coordinator throughout.
    for name in ("sol", "vera"):
        url = reverse("care:person", args=[volunteers.world.pat.pk])
        assert client_for(user_named(volunteers, name)).get(url).status_code in (403, 404), name


def test_guessing_links_is_slowed_down(volunteers, settings):
    settings.OUTCOME_LINK_REQUESTS_PER_CLIENT_HOUR = 3
    client = Client()
    answers = [client.get(reverse("volunteers:answer", args=[f"guess-{i}"])).status_code for i in range(5)]
    assert answers == [410, 410, 410, 429, 429]
