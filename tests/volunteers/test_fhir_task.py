"""The introduction as a FHIR Task, validated by fhir.resources in every state it can be in."""

import json

import pytest
from django.utils import timezone
from fhir.resources.R4B.task import Task

from recoverybridge.volunteers import actions
from recoverybridge.volunteers.fhir import introduction_task
from recoverybridge.volunteers.models import IntroductionState
from tests.volunteers.test_introductions import arrange, connected


def as_json(task: Task) -> dict:
    return json.loads(task.model_dump_json())


def test_an_offered_introduction_is_a_requested_task_owned_by_the_volunteer(volunteers):
    introduction = arrange(volunteers)
    data = as_json(introduction_task(introduction))
    assert data["status"] == "requested" and data["intent"] == "order"
    assert data["owner"] == {
        "type": "RelatedPerson",
        "identifier": {
            "system": "https://recoverybridge.org/fhir/sid/volunteer",
            "value": str(volunteers.sol.pk),
        },
    }
    assert data["partOf"] == [{"reference": f"Task/{volunteers.referral.pk}", "type": "Task"}]
    assert data["basedOn"][0]["reference"] == f"ServiceRequest/{volunteers.referral.pk}"
    assert data["for"]["identifier"]["value"] == "RB-PAT00001" and "reference" not in data["for"]
    assert data["restriction"]["recipient"][0]["display"] == "Bridge Peer Network"
    # Parsed back by fhir.resources: a valid R4 Task.
    assert Task.model_validate(data).id == f"introduction-{introduction.pk}"


def test_every_state_is_a_valid_task_with_nothing_personal(volunteers, django_capture_on_commit_callbacks):
    introduction, token = connected(volunteers, django_capture_on_commit_callbacks)
    assert as_json(introduction_task(introduction))["status"] == "in-progress"
    actions.record_first_meeting(volunteers.sol.user, introduction, on=timezone.localdate())
    introduction.refresh_from_db()
    met = as_json(introduction_task(introduction))
    assert met["status"] == "completed" and met["output"][0]["valueDate"] == timezone.localdate().isoformat()
    actions.end_by_person(token)
    introduction.refresh_from_db()
    ended = as_json(introduction_task(introduction))
    assert ended["status"] == "completed" and ended["statusReason"]["text"] == "ended by person"
    text = json.dumps(ended)
    for personal in ('"Pat"', "Example", "pat@example.net", "+447", "Sol", "sol@", "someone to go with me"):
        assert personal not in text, personal


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (IntroductionState.DECLINED, "rejected"),
        (IntroductionState.EXPIRED, "failed"),
        (IntroductionState.ENDED, "cancelled"),
        (IntroductionState.ASKED, "accepted"),
    ],
)
def test_status_mapping(volunteers, state, status):
    introduction = arrange(volunteers)
    introduction.state = state
    assert as_json(introduction_task(introduction))["status"] == status
