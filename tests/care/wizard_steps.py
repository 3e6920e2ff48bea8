"""Driving the referral wizard as a worker's browser would: one POST per step, through the
pages (the Django test client), so the tests exercise the same forms and redirects."""

import re
from typing import Any

from recoverybridge.care.models import Person, ReferralDraft


def matters_of(person: Person, **changes: Any) -> dict[str, Any]:
    """The first step's form as it starts: the person's recorded preferences."""
    data: dict[str, Any] = {
        "spiritual": person.spiritual_preference,
        "language": person.preferred_language,
        "gender": person.group_gender_preference,
        "attendance": person.attendance_preference,
    }
    if person.on_moud:
        data["on_moud"] = "on"
    data.update(changes)
    return data


def start(client: Any, person: Person, **changes: Any) -> tuple[ReferralDraft, Any]:
    """Answer what matters (and what gets in the way) and go on: the draft, and the options page."""
    response = client.post(f"/staff/people/{person.pk}/refer/", matters_of(person, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = ReferralDraft.objects.get(person=person)
    assert response["Location"] == step_url(draft, "options")
    return draft, client.get(response["Location"])


def step_url(draft: ReferralDraft, step: str) -> str:
    return f"/staff/referral-drafts/{draft.pk}/{step}/"


def presented_ids(response: Any) -> list[int]:
    """The options on the page, in their order."""
    body = response.content.decode()
    return [int(pk) for pk in re.findall(r'name="presented" value="(\d+)"', body)]


def choose(client: Any, draft: ReferralDraft, presented: list[int], chosen: list[int]) -> Any:
    return client.post(step_url(draft, "options"), {"presented": presented, "chosen": chosen, "go": "next"})


def answer(client: Any, draft: ReferralDraft, step: str, data: dict[str, Any], go: str = "next") -> Any:
    return client.post(step_url(draft, step), {**data, "go": go})
