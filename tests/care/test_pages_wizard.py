"""The referral wizard through its pages: options matched to what matters to the person, every
kind of group nearby presented (information parity), what was presented and chosen recorded,
consent before disclosure to another organisation, and the take-away list printed in the
person's language and time zone."""

import io
import re
from datetime import time

import pytest
from pypdf import PdfReader

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import Referral, ReferralDraft, ReferralOption, TaskStatus
from recoverybridge.directory.models import Approach, Fellowship, Meeting
from tests.care.wizard_steps import answer, choose, matters_of, presented_ids, start, step_url
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


def names_in_order(response) -> list[str]:
    ids = presented_ids(response)
    names = dict(Meeting.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [names[pk] for pk in ids]


def test_the_first_step_is_what_matters_to_them(world, client, lewes):
    client.force_login(world.bob)
    response = client.get(f"/staff/people/{world.pat.pk}/refer/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Step 1 of 6: What matters to them" in body
    assert "What might get in the way?" in body
    assert not ReferralDraft.objects.exists()  # nothing kept until the worker goes on


def test_every_kind_of_group_nearby_is_presented(world, client, lewes):
    client.force_login(world.bob)
    _draft, response = start(client, world.pat)
    assert response.status_code == 200
    shown = set(presented_ids(response))
    approaches = set(Meeting.objects.filter(pk__in=shown).values_list("fellowship__approach", flat=True))
    assert approaches == set(Approach.values)
    for approach in ONE_OF_EACH:
        if approach != Approach.TWELVE_STEP:  # AA in town is the nearer twelve-step group
            assert lewes["others"][approach].pk in shown, f"no {approach} group presented"
    assert len(shown & {m.pk for m in lewes["aa"]}) >= 1
    assert "Indigenous" in response.content.decode()  # the approach counts are on the page too


def test_family_groups_are_for_family_members(world, client, lewes):
    al_anon = make_meeting(
        "al-anon", location=lewes["others"][Approach.SECULAR].location, name="Ringmer Al-Anon"
    )
    client.force_login(world.bob)
    _draft, response = start(client, world.pat)
    assert al_anon.pk not in presented_ids(response)
    sister = actions.create_person(world.bob, world.detox, given_name="Sky", latitude=50.873, longitude=0.009)
    actions.add_related_person(world.bob, world.pat, name="Sky", relationship="sister", as_person=sister)
    _draft, response = start(client, sister)
    assert al_anon.pk in presented_ids(response)


def test_someone_on_moud_sees_welcoming_meetings_first_and_unwelcoming_ones_marked(world, client, lewes):
    town = lewes["aa"][0].location
    welcoming = make_meeting("na", location=town, name="Welcome NA", moud_stance="welcoming")
    unwelcoming = make_meeting("na", location=town, name="Old School NA", moud_stance="not_welcoming")
    client.force_login(world.bob)
    _draft, response = start(client, world.pat, on_moud="on")
    order = names_in_order(response)
    assert order.index("Welcome NA") < order.index("Lewes AA 0")
    assert unwelcoming.pk in presented_ids(response), (
        "a meeting that does not welcome people on MOUD is never hidden"
    )
    assert order[-1] == "Old School NA"
    body = response.content.decode()
    assert "Does not welcome people on MOUD" in body and "known not to welcome people on MOUD" in body
    assert welcoming.pk in presented_ids(response)


def test_a_spanish_speaking_person_sees_spanish_meetings_first_and_every_option_its_language(
    world, client, lewes
):
    spanish = make_meeting(
        "aa",
        location=lewes["others"][Approach.SECULAR].location,
        name="Grupo Esperanza",
        attributes=("language-es",),
    )
    client.force_login(world.bob)
    _draft, response = start(client, world.pat, language="es")
    assert names_in_order(response)[0] == "Grupo Esperanza"
    body = response.content.decode()
    assert "In Spanish" in body  # the reason, on the option
    # Every option says its language, or that none is listed.
    assert body.count('class="badge badge-language"') == len(presented_ids(response))
    assert spanish.pk in presented_ids(response)


def test_the_referral_records_what_was_presented_chosen_and_planned(world, client, lewes):
    client.force_login(world.bob)
    draft, response = start(client, world.pat, barriers=["transport", "work_hours"], approaches=["secular"])
    shown = presented_ids(response)
    smart = lewes["others"][Approach.SECULAR]
    dharma = lewes["others"][Approach.OTHER]
    assert choose(client, draft, shown, [smart.pk, dharma.pk]).status_code == 302
    step3 = client.get(step_url(draft, "target"))
    assert step3.status_code == 200 and "Ringmer smart" in step3.content.decode()
    target = {
        "target_kind": "meeting",
        "meeting": smart.pk,
        "reason": "Wants something without a higher power",
    }
    assert answer(client, draft, "target", target)["Location"] == step_url(draft, "contact")
    assert answer(client, draft, "contact", {"introduction": "accompany"})["Location"] == step_url(
        draft, "follow-up"
    )
    assert (
        answer(client, draft, "follow-up", {"follow_up": ["2099-01-05"]}).status_code == 400
    )  # over a year away
    client.get(step_url(draft, "follow-up"))
    review = client.get(step_url(draft, "review"))
    assert "Send referral" in review.content.decode()
    done = client.post(step_url(draft, "review"))
    referral = Referral.objects.get(person=world.pat)
    assert done.status_code == 302 and done["Location"] == f"/staff/referrals/{referral.pk}/"
    assert referral.status == TaskStatus.REQUESTED and referral.meeting == smart
    options = ReferralOption.objects.filter(referral=referral)
    assert {o.meeting_id for o in options} == set(shown)
    assert {o.meeting_id for o in options if o.chosen} == {smart.pk, dharma.pk}
    assert referral.follow_ups.count() == 2  # the default plan: a week and four weeks
    assert sorted(referral.barriers.values_list("code", flat=True)) == ["transport", "work_hours"]
    assert referral.matters["approaches"] == ["secular"]
    assert referral.introduction.kind == "accompany" and referral.introduction.fellowship.slug == "smart"
    assert not ReferralDraft.objects.exists()  # sent: the draft is gone


def test_a_half_filled_step_keeps_the_choices(world, client, lewes):
    smart = lewes["others"][Approach.SECULAR]
    client.force_login(world.bob)
    draft, response = start(client, world.pat)
    choose(client, draft, presented_ids(response), [smart.pk])
    response = answer(client, draft, "target", {"target_kind": "housing"})
    assert response.status_code == 400
    assert "Choose the organisation to refer to." in response.content.decode()
    draft.refresh_from_db()
    assert draft.answers["chosen"] == [smart.pk]
    assert not Referral.objects.exists()


def test_another_organisation_needs_consent_first_and_the_detour_comes_back(world, client, lewes):
    client.force_login(world.bob)
    draft, response = start(client, world.pat)
    chosen = [lewes["others"][Approach.SECULAR].pk]
    choose(client, draft, presented_ids(response), chosen)
    target = {"target_kind": "other_service", "organisation": world.bridge.pk, "reason": "Peer support"}
    response = answer(client, draft, "target", target)
    assert response["Location"] == step_url(draft, "target")  # stays, to say consent is needed
    body = client.get(response["Location"]).content.decode()
    assert "has no active consent to share this referral with Bridge Peer Network" in body
    back = step_url(draft, "target").replace("/", "%2F")
    link = f"/staff/people/{world.pat.pk}/consent/?purpose=referral&amp;recipient={world.bridge.pk}&amp;next={back}"
    assert link in body
    # Sending now is refused, clearly, and nothing is shared.
    refused = client.post(step_url(draft, "review"))
    assert refused.status_code == 400 and "Consent needed" in refused.content.decode()
    assert not Referral.objects.exists()

    # The detour: record consent, and land back on the step with everything kept.
    recorded = client.post(
        link.replace("&amp;", "&"), {"purpose": "referral", "recipient": world.bridge.pk, "scope": "Referral"}
    )
    assert recorded["Location"] == step_url(draft, "target")
    body = client.get(step_url(draft, "target")).content.decode()
    assert "Consent needed" not in body and 'value="Peer support"' not in body  # reason is in a textarea
    assert "Peer support</textarea>" in body
    draft.refresh_from_db()
    assert draft.answers["chosen"] == chosen and draft.answers["target"]["organisation"] == world.bridge.pk
    assert client.post(step_url(draft, "review")).status_code == 302
    sent = Referral.objects.get(status=TaskStatus.REQUESTED)
    assert sent.target_organisation == world.bridge and sent.consent is not None


def test_the_take_away_list_is_in_spanish_in_their_time_zone_and_printing_is_audited(world, client, lewes):
    world.pat.preferred_language = "es"
    world.pat.time_zone = "America/Mexico_City"
    world.pat.save()
    smart = lewes["others"][Approach.SECULAR]  # Mondays 7 p.m. in London
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
    # Mondays 7 p.m. in London is 1 p.m. in Mexico City (noon while London is on summer time).
    assert re.search(r"Cada lunes, de 1[23]:00 a 1[34]:00 en su hora \(19:00 en London\)", text), text
    assert "Pat" not in text and world.pat.reference not in text  # nothing to identify them if lost
    prints = AuditEvent.objects.filter(person_id=world.pat.pk, action=AuditAction.PRINT)
    assert prints.count() == 1 and prints.get().actor == world.bob


def test_each_wizard_page_records_one_view(world, client, lewes):
    client.force_login(world.bob)
    views = AuditEvent.objects.filter(person_id=world.pat.pk, action=AuditAction.VIEW)
    client.get(f"/staff/people/{world.pat.pk}/refer/")
    assert views.count() == 1
    draft, _options = start(client, world.pat)
    assert views.count() == 2
    assert views.order_by("-id").first().detail == "referral wizard: options"
    client.get(step_url(draft, "review"))
    assert views.count() == 3


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
    _draft, response = start(client, world.pat)
    assert presented_ids(response) == [online.pk]
    assert "only online meetings are shown" in response.content.decode()
    assert Fellowship.objects.filter(slug="smart").exists()


def test_bad_answers_are_refused_clearly_and_nothing_is_lost(world, client, lewes):
    client.force_login(world.bob)
    response = client.post(
        f"/staff/people/{world.pat.pk}/refer/", matters_of(world.pat, language="xx", barriers=["teleport"])
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please correct the following" in body and "Select a valid choice" in body
    assert not ReferralDraft.objects.exists()
