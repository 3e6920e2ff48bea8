"""The referral wizard: options matched to the person, every kind of group nearby presented
(information parity), what was presented and chosen recorded, consent before disclosure to
another organisation, and the take-away list printed in the person's language."""

import io
import re
from datetime import time

import pytest
from pypdf import PdfReader

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import ConsentPurpose, Referral, ReferralOption, TaskStatus
from recoverybridge.directory.models import Approach, Fellowship, Meeting
from tests.factories import make_location, make_meeting

# Pat lives in Lewes (East Sussex), where these meetings are.
LEWES = {"latitude": 50.873, "longitude": 0.009, "city": "Lewes", "timezone": "Europe/London"}
ONE_OF_EACH = {
    Approach.TWELVE_STEP: "na",
    Approach.SECULAR: "smart",
    Approach.FAITH_BASED: "celebrate-recovery",
    Approach.INDIGENOUS: "wellbriety",
    Approach.MEDICATION_ASSISTED: "mara",
    Approach.OTHER: "recovery-dharma",
}


@pytest.fixture
def lewes(world):
    """Twelve AA meetings right in town, and one meeting of every other kind a little further
    out, so a list of the nearest alone would show AA only."""
    town = make_location(name="Town Hall", **LEWES)
    edge = make_location(
        name="Edge Hall", latitude=50.95, longitude=0.05, city="Ringmer", timezone="Europe/London"
    )
    aa = [
        make_meeting("aa", location=town, name=f"Lewes AA {n}", start_time=time(7 + n, 0)) for n in range(12)
    ]
    others = {
        approach: make_meeting(slug, location=edge, name=f"Ringmer {slug}")
        for approach, slug in ONE_OF_EACH.items()
    }
    return {"aa": aa, "others": others}


def presented_ids(response) -> set[int]:
    body = response.content.decode()
    return {int(pk) for pk in re.findall(r'name="presented" value="(\d+)"', body)}


def test_every_kind_of_group_nearby_is_presented(world, client, lewes):
    client.force_login(world.bob)
    response = client.get(f"/staff/people/{world.pat.pk}/refer/")
    assert response.status_code == 200
    shown = presented_ids(response)
    approaches = set(Meeting.objects.filter(pk__in=shown).values_list("fellowship__approach", flat=True))
    assert approaches == set(Approach.values)
    for approach in ONE_OF_EACH:
        if approach != Approach.TWELVE_STEP:  # AA in town is the nearer twelve-step group
            assert lewes["others"][approach].pk in shown, f"no {approach} group presented"
    assert len(shown & {m.pk for m in lewes["aa"]}) >= 1
    # The approach counts are on the page too.
    assert "Indigenous" in response.content.decode()


def test_family_groups_are_for_family_members(world, client, lewes):
    al_anon = make_meeting(
        "al-anon", location=lewes["others"][Approach.SECULAR].location, name="Ringmer Al-Anon"
    )
    client.force_login(world.bob)
    assert al_anon.pk not in presented_ids(client.get(f"/staff/people/{world.pat.pk}/refer/"))
    sister = actions.create_person(world.bob, world.detox, given_name="Sky", latitude=50.873, longitude=0.009)
    actions.add_related_person(world.bob, world.pat, name="Sky", relationship="sister")
    world.pat.related_people.update(as_person=sister)
    assert al_anon.pk in presented_ids(client.get(f"/staff/people/{sister.pk}/refer/"))


def test_someone_on_moud_sees_welcoming_meetings_first_and_unwelcoming_ones_marked(world, client, lewes):
    world.pat.on_moud = True
    world.pat.save()
    town = lewes["aa"][0].location
    welcoming = make_meeting("na", location=town, name="Welcome NA", moud_stance="welcoming")
    unwelcoming = make_meeting("na", location=town, name="Old School NA", moud_stance="not_welcoming")
    client.force_login(world.bob)
    body = client.get(f"/staff/people/{world.pat.pk}/refer/").content.decode()
    assert body.index("Welcome NA") < body.index("Lewes AA 0")
    assert f'value="{unwelcoming.pk}"' in body, (
        "a meeting that does not welcome people on MOUD is never hidden"
    )
    assert body.index("Old School NA") > body.index("Lewes AA 0")
    assert "Does not welcome people on MOUD" in body
    assert "known not to welcome people on MOUD" in body
    assert f'value="{welcoming.pk}"' in body


def test_a_spanish_speaking_person_sees_spanish_meetings_first(world, client, lewes):
    world.pat.preferred_language = "es"
    world.pat.save()
    spanish = make_meeting(
        "aa",
        location=lewes["others"][Approach.SECULAR].location,
        name="Grupo Esperanza",
        attributes=("language-es",),
    )
    client.force_login(world.bob)
    body = client.get(f"/staff/people/{world.pat.pk}/refer/").content.decode()
    assert body.index("Grupo Esperanza") < body.index("Lewes AA 0")
    assert spanish.pk in presented_ids(client.get(f"/staff/people/{world.pat.pk}/refer/"))


def test_the_referral_records_what_was_presented_and_chosen(world, client, lewes):
    client.force_login(world.bob)
    shown = presented_ids(client.get(f"/staff/people/{world.pat.pk}/refer/"))
    smart = lewes["others"][Approach.SECULAR]
    dharma = lewes["others"][Approach.OTHER]
    url = f"/staff/people/{world.pat.pk}/refer/"
    step2 = client.post(url, {"step": "2", "presented": sorted(shown), "chosen": [smart.pk, dharma.pk]})
    assert step2.status_code == 200 and "Ringmer smart" in step2.content.decode()
    done = client.post(
        url,
        {
            "step": "3",
            "presented": sorted(shown),
            "chosen": [smart.pk, dharma.pk],
            "target_kind": "meeting",
            "meeting": smart.pk,
            "reason": "Wants something without a higher power",
        },
    )
    referral = Referral.objects.get(person=world.pat)
    assert done.status_code == 302 and done["Location"] == f"/staff/referrals/{referral.pk}/"
    assert referral.status == TaskStatus.REQUESTED and referral.meeting == smart
    options = ReferralOption.objects.filter(referral=referral)
    assert {o.meeting_id for o in options} == shown
    assert {o.meeting_id for o in options if o.chosen} == {smart.pk, dharma.pk}
    assert referral.follow_ups.count() == 2  # scheduled by the core


def test_half_filled_step_two_keeps_the_choices(world, client, lewes):
    smart = lewes["others"][Approach.SECULAR]
    client.force_login(world.bob)
    response = client.post(
        f"/staff/people/{world.pat.pk}/refer/",
        {"step": "3", "presented": [smart.pk], "chosen": [smart.pk], "target_kind": "housing"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose the organisation to refer to." in body
    assert f'name="chosen" value="{smart.pk}"' in body and f'name="presented" value="{smart.pk}"' in body
    assert not Referral.objects.exists()


def test_another_organisation_needs_consent_first(world, client, lewes):
    client.force_login(world.bob)
    url = f"/staff/people/{world.pat.pk}/refer/"
    data = {"step": "3", "target_kind": "other_service", "organisation": world.bridge.pk}
    response = client.post(url, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "has no active consent to share this referral with Bridge Peer Network" in body
    assert f"/staff/people/{world.pat.pk}/consent/?purpose=referral&amp;recipient={world.bridge.pk}" in body
    assert not Referral.objects.exists()

    # Saving it as a draft shares nothing and needs no consent.
    client.post(url, {**data, "draft": "1"})
    assert Referral.objects.get().status == TaskStatus.DRAFT

    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    assert client.post(url, data).status_code == 302
    sent = Referral.objects.get(status=TaskStatus.REQUESTED)
    assert sent.target_organisation == world.bridge and sent.consent is not None


def test_the_take_away_list_is_in_spanish_for_a_spanish_speaker_and_printing_is_audited(world, client, lewes):
    world.pat.preferred_language = "es"
    world.pat.save()
    smart = lewes["others"][Approach.SECULAR]
    referral = actions.create_referral(
        world.bob,
        world.pat,
        target_kind="meeting",
        meeting=smart,
        presented=[smart, lewes["aa"][0]],
        chosen=[smart],
    )
    client.force_login(world.bob)
    response = client.get(f"/staff/referrals/{referral.pk}/take-away.pdf")  # the worker's page is in English
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Sus opciones de apoyo" in text
    assert "Grupos que eligió probar" in text
    assert "Ringmer smart" in text and "Lewes AA 0" in text
    assert "Pat" not in text and world.pat.reference not in text  # nothing to identify them if lost
    prints = AuditEvent.objects.filter(person_id=world.pat.pk, action=AuditAction.PRINT)
    assert prints.count() == 1 and prints.get().actor == world.bob


def test_the_wizard_view_is_recorded_once(world, client, lewes):
    client.force_login(world.bob)
    client.get(f"/staff/people/{world.pat.pk}/refer/")
    views = AuditEvent.objects.filter(person_id=world.pat.pk, action=AuditAction.VIEW)
    assert views.count() == 1


def test_no_location_means_online_meetings_only(world, client, lewes):
    online = make_meeting(
        "smart",
        location=None,
        attendance_mode="online",
        conference_url="https://m.example.org/x",
        name="SMART Online",
    )
    world.pat.latitude = world.pat.longitude = None
    world.pat.save()
    client.force_login(world.bob)
    response = client.get(f"/staff/people/{world.pat.pk}/refer/")
    assert presented_ids(response) == {online.pk}
    assert "only online meetings are shown" in response.content.decode()
    assert Fellowship.objects.filter(slug="smart").exists()
