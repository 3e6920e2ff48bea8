"""Reporting a change and reviewing it.

Bob sees that his Tuesday group moved to 19:30 and reports it; Eve, a
directory editor, approves it; Mallory, signed in without the editor
permission, cannot review anything.
"""

from datetime import date, time

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from recoverybridge.directory.actions import changes
from recoverybridge.directory.models import ChangeRequest, Meeting
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting() -> Meeting:
    return make_meeting("na", name="Tuesday Hope", weekday=2, start_time=time(19, 0))


@pytest.fixture
def eve() -> User:
    user = User.objects.create_user("eve", password="correct horse battery")
    user.groups.add(Group.objects.get(name="Directory editors"))
    return user


def report(client: Client, meeting: Meeting, **fields):
    data = {"message": "We moved to half past seven.", **fields}
    return client.post(f"/meetings/{meeting.pk}/report/", data)


def test_a_report_is_stored_for_review_and_changes_nothing(client: Client, meeting):
    response = report(client, meeting, start_time="19:30", contact_email="bob@example.org")
    assert response.status_code == 302
    change = ChangeRequest.objects.get()
    assert change.status == "pending"
    assert change.proposed == {"start_time": "19:30"}
    assert change.contact_email == "bob@example.org"
    meeting.refresh_from_db()
    assert meeting.start_time == time(19, 0)
    assert "Thank you. An editor will check your report." in client.get(response["Location"]).content.decode()


def test_a_report_needs_a_message_and_valid_values(client: Client, meeting):
    response = client.post(
        f"/meetings/{meeting.pk}/report/", {"start_time": "25:99", "contact_email": "not an email"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Enter a valid time." in html and "Enter a valid email address." in html
    assert ChangeRequest.objects.count() == 0


def test_reports_are_rate_limited_per_client(client: Client, meeting, settings):
    settings.CHANGE_REQUESTS_PER_HOUR = 2
    assert report(client, meeting).status_code == 302
    assert report(client, meeting).status_code == 302
    third = report(client, meeting)
    assert third.status_code == 429
    assert "several reports in the last hour" in third.content.decode()
    assert ChangeRequest.objects.count() == 2
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert report(other, meeting).status_code == 302


def test_editor_approves_and_the_change_is_applied_with_who_and_when(client: Client, meeting, eve):
    report(client, meeting, start_time="19:30", closed="on")
    change = ChangeRequest.objects.get()
    client.force_login(eve)
    queue = client.get("/editor/").content.decode()
    assert "Tuesday Hope" in queue
    review = client.get(f"/editor/changes/{change.pk}/").content.decode()
    assert "19:30" in review and "inactive" in review
    response = client.post(f"/editor/changes/{change.pk}/", {"decision": "approve", "note": "Checked"})
    assert response.status_code == 302
    change.refresh_from_db()
    meeting.refresh_from_db()
    assert meeting.start_time == time(19, 30) and meeting.status == "inactive"
    assert change.status == "approved" and change.reviewed_by == eve and change.reviewed_at is not None
    assert change.review_note == "Checked"
    again = client.post(f"/editor/changes/{change.pk}/", {"decision": "reject"})
    assert again.status_code == 400 and "already approved" in again.content.decode()


def test_editor_rejects_and_the_meeting_stays_as_it_was(client: Client, meeting, eve):
    report(client, meeting, name="Spam")
    change = ChangeRequest.objects.get()
    client.force_login(eve)
    client.post(f"/editor/changes/{change.pk}/", {"decision": "reject"})
    change.refresh_from_db()
    meeting.refresh_from_db()
    assert change.status == "rejected" and change.reviewed_by == eve
    assert meeting.name == "Tuesday Hope"


def test_only_editors_review(client: Client, meeting):
    report(client, meeting, start_time="19:30")
    change = ChangeRequest.objects.get()
    assert client.get("/editor/")["Location"].startswith("/accounts/login/?next=/editor/")
    mallory = User.objects.create_user("mallory", password="x")
    client.force_login(mallory)
    response = client.post(f"/editor/changes/{change.pk}/", {"decision": "approve"})
    # Signed in but not an editor: our 403 page, not the sign-in form again.
    assert response.status_code == 403
    assert "The review queue is for directory editors." in response.content.decode()
    change.refresh_from_db()
    assert change.status == "pending"


def test_editor_sets_moud_stance_with_source_and_date(client: Client, meeting, eve):
    client.force_login(eve)
    response = client.post(
        f"/editor/meetings/{meeting.pk}/moud/",
        {"stance": "welcoming", "source": "Asked the chair", "verified_on": "2026-05-04"},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.moud_stance, meeting.moud_source, meeting.moud_verified_on) == (
        "welcoming",
        "Asked the chair",
        date(2026, 5, 4),
    )
    record = ChangeRequest.objects.get(meeting=meeting)
    assert record.status == "approved" and record.reviewed_by == eve
    bad = client.post(f"/editor/meetings/{meeting.pk}/moud/", {"stance": "maybe", "source": ""})
    assert bad.status_code == 400


def test_editing_functions_refuse_bad_values(meeting, eve):
    change = changes.report_change(meeting, proposed={"weekday": 3}, message="Wednesday now")
    with pytest.raises(changes.ReviewError):
        changes.report_change(meeting, proposed={"fellowship": "aa"}, message="")
    bogus = ChangeRequest.objects.create(meeting=meeting, proposed={"start_time": "half past"})
    with pytest.raises(changes.ReviewError, match="not a time"):
        changes.approve_change(bogus.pk, editor=eve)
    changes.approve_change(change.pk, editor=eve)
    meeting.refresh_from_db()
    assert meeting.weekday == 3


def test_editor_signs_in_at_accounts_login(client: Client, eve):
    response = client.post(
        "/accounts/login/", {"username": "eve", "password": "correct horse battery", "next": "/editor/"}
    )
    assert response.status_code == 302 and response["Location"] == "/editor/"
    assert "Waiting for review" in client.get("/editor/").content.decode()
