"""A response exported as FHIR: a QuestionnaireResponse plus score Observations, validated."""

import datetime

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from recoverybridge.outcomes import actions
from recoverybridge.outcomes.fhir import response_bundle
from tests.care_world import World, build_world

NOW = timezone.make_aware(datetime.datetime(2025, 3, 3, 10, 0))


@pytest.fixture
def world(db) -> World:
    return build_world()


def test_barc10_response_exports_as_valid_fhir(world):
    answers = {f"barc-{n}": "5" for n in range(1, 10)}  # one missing: prorated
    response = actions.record_response(world.bob, world.pat, "barc-10", answers, now=NOW)
    bundle = Bundle.model_validate(response_bundle(response).model_dump())
    qr, total = (entry.resource for entry in bundle.entry)
    assert qr.questionnaire == "https://recoverybridge.org/fhir/Questionnaire/barc-10|1"
    assert qr.subject.identifier.value == world.pat.reference
    assert [i.linkId for i in qr.item] == [f"barc-{n}" for n in range(1, 10)]
    assert qr.item[0].answer[0].valueCoding.code == "5"
    # 9 x 5 = 45, prorated 45 * 10 / 9 = 50, flagged (>= 47)
    assert float(total.valueQuantity.value) == 50
    assert total.interpretation[0].coding[0].code == "sustained-remission-threshold"
    assert total.note[0].text.startswith("Prorated")
    assert world.pat.email not in bundle.model_dump_json()  # the pseudonymous reference only


def test_repeating_groups_and_self_completion_export(world):
    _invitation, token = actions.create_invitation(world.bob, world.pat, instrument_id="mutual-help", now=NOW)
    response = actions.complete_invitation(
        token,
        {
            "meetings": [{"meetings.fellowship": "other", "meetings.count": 9}],
            "sponsor-or-mentor": True,
            "service-role": False,
            "contact-outside": False,
            "program-work": False,
        },
        now=NOW,
    )
    resources = [entry.resource for entry in response_bundle(response).entry]
    qr = resources[0]
    assert qr.source.identifier.value == world.pat.reference
    assert qr.item[0].linkId == "meetings" and qr.item[0].item[1].answer[0].valueInteger == 9
    assert {o.code.coding[0].code: float(o.valueQuantity.value) for o in resources[1:]} == {
        "mutual-help/meetings-total": 9,
        "mutual-help/involvement": 1,
    }
