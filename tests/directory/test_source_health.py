"""Source health for directory editors: the list ordered by trouble, each source's page (last
attempt and success, counts, refused records with reasons, fields most often missing, how
stale), the held-import review, and the e-mail to a source's contact after a set time."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.utils import timezone

from recoverybridge.directory import queries
from recoverybridge.directory.actions import sources
from recoverybridge.directory.models import AttemptOutcome, FeedAttempt, HeldStatus, ImportRun, MeetingStatus
from tests.directory.feed_server import feed_server  # noqa: F401 (a fixture)
from tests.directory.test_feed_refresh import active_count, meetings, source_for

pytestmark = pytest.mark.django_db
PASSWORD = "a long editor passphrase"


@pytest.fixture
def editor(client):
    editors, _ = Group.objects.get_or_create(name="Directory editors")
    editors.permissions.add(Permission.objects.get(codename="review_changerequest"))
    eddie = User.objects.create_user("eddie", "eddie@example.org", PASSWORD)
    eddie.groups.add(editors)
    client.force_login(eddie)  # the sign-in form itself: tests/web/test_feed_sources_browser.py
    return eddie


def age(attempts, hours: float) -> None:
    """Move attempts (and the imports they ran) back in time, as if they had happened `hours` ago."""
    for attempt in attempts:
        FeedAttempt.objects.filter(pk=attempt.pk).update(
            started_at=attempt.started_at - timedelta(hours=hours),
            finished_at=attempt.finished_at - timedelta(hours=hours),
        )
        if attempt.import_run_id:
            run = ImportRun.objects.get(pk=attempt.import_run_id)
            ImportRun.objects.filter(pk=run.pk).update(
                started_at=run.started_at - timedelta(hours=hours),
                finished_at=run.finished_at - timedelta(hours=hours),
            )


@pytest.fixture
def four_sources(feed_server):  # noqa: F811
    # Each at its own hour: the same meeting from two sources would be merged into one.
    fresh = source_for(
        feed_server.publish("/fresh.json", meetings(5, prefix="f", time="08:00")), "fresh", refresh_minutes=60
    )
    sources.refresh_source(fresh)
    stale = source_for(
        feed_server.publish("/stale.json", meetings(5, prefix="s", time="09:00")), "stale", refresh_minutes=60
    )
    age([sources.refresh_source(stale)], hours=10)
    held = source_for(
        feed_server.publish("/held.json", meetings(10, prefix="h", time="10:00")), "held", refresh_minutes=60
    )
    sources.refresh_source(held)
    feed_server.publish("/held.json", meetings(10, prefix="h", time="10:00")[:3])
    sources.refresh_source(held)
    broken = source_for(
        feed_server.publish("/broken.json", meetings(4, prefix="b", time="11:00")),
        "broken",
        refresh_minutes=60,
        contact_email="webmaster@intergroup.example.org",
    )
    sources.refresh_source(broken)
    feed_server.publish("/broken.json", b"", behaviour=500)
    sources.refresh_source(broken)
    return {"fresh": fresh, "stale": stale, "held": held, "broken": broken}


def test_the_list_puts_the_most_troubled_sources_first(client, editor, four_sources):
    healths = queries.source_health(timezone.now())
    assert [h.source.name for h in healths] == ["broken", "held", "stale", "fresh"]
    assert [h.trouble for h in healths] == [
        queries.Trouble.FAILING,
        queries.Trouble.HELD,
        queries.Trouble.STALE,
        queries.Trouble.NONE,
    ]
    page = client.get("/editor/sources/").content.decode()
    assert page.index("broken") < page.index("held") < page.index("stale") < page.index("fresh")
    assert "3 sources need attention" in page
    assert "answered HTTP 500" in page
    assert f'href="/editor/held-imports/{healths[1].held_id}/"' in page


def test_a_source_page_says_what_was_refused_and_missing_and_how_stale(client, editor, feed_server):  # noqa: F811
    feed = meetings(8)
    feed[0]["day"] = 9
    for item in feed[1:6]:
        item.pop("latitude"), item.pop("longitude")
    for item in feed[1:3]:
        item["types"] = []
    source = source_for(feed_server.publish("/lewes.json", feed), default_timezone="America/New_York")
    attempt = sources.refresh_source(source)
    age([attempt], hours=3)
    sources.refresh_source(source)  # a 304: confirms the meetings, reads nothing

    page = client.get(f"/editor/sources/{source.pk}/").content.decode()
    assert "Fetched every 1440 minutes" in page
    assert "Meetings listed</dt><dd>7</dd>" in page
    assert "1 record refused" in page and "<code>m0</code>" in page
    # Most often missing first: coordinates (5 of 8), then types (2 of 8); no time zone in any.
    assert page.index("coordinates: missing from 5 records (62%)") < page.index(
        "types (kinds of meeting): missing from 2 records (25%)"
    )
    assert "Not modified (304)" in page and "Imported (200)" in page
    # The last success is the 304 just now, not the import three hours ago.
    assert "(0\xa0minutes ago)" in page


def test_only_editors_see_feed_sources(client, four_sources):
    assert client.get("/editor/sources/").status_code == 302  # to sign in
    client.force_login(User.objects.create_user("bob", password=PASSWORD))
    assert client.get("/editor/sources/").status_code == 403
    assert client.get(f"/editor/sources/{four_sources['fresh'].pk}/").status_code == 403
    held = queries.source_health(timezone.now())[1].held_id
    assert client.post(f"/editor/held-imports/{held}/", {"decision": "apply"}).status_code == 403
    assert active_count(four_sources["held"]) == 10


def test_an_editor_applies_a_held_import_from_its_review_page(client, editor, four_sources):
    source = four_sources["held"]
    held_id = queries.source_health(timezone.now())[1].held_id
    page = client.get(f"/editor/held-imports/{held_id}/").content.decode()
    assert "7 meetings dropped" in page and "Meeting 9" in page and "nothing has changed yet" in page
    assert client.post(f"/editor/held-imports/{held_id}/", {"decision": "nonsense"}).status_code == 400
    assert active_count(source) == 10

    answer = client.post(
        f"/editor/held-imports/{held_id}/", {"decision": "apply", "note": "Checked by phone."}
    )
    assert answer.status_code == 302 and answer["Location"] == f"/editor/sources/{source.pk}/"
    assert active_count(source) == 3
    assert source.meeting_sources.filter(meeting__status=MeetingStatus.INACTIVE).count() == 7
    page = client.get(f"/editor/held-imports/{held_id}/").content.decode()
    assert "Applied: eddie" in page and "Checked by phone." in page and "Apply this import" not in page
    # Deciding twice says why, and changes nothing.
    again = client.post(f"/editor/held-imports/{held_id}/", {"decision": "discard"})
    assert again.status_code == 400 and "already applied" in again.content.decode()
    assert source.held_imports.get().status == HeldStatus.APPLIED


def test_a_source_in_trouble_for_the_set_time_tells_its_contact_once(
    four_sources, settings, django_capture_on_commit_callbacks
):
    settings.FEED_ALERT_AFTER_HOURS = 48
    broken = four_sources["broken"]
    mail.outbox.clear()
    assert sources.alert_contacts() == []  # failing for minutes only
    with django_capture_on_commit_callbacks(execute=True):
        assert sources.alert_contacts(now=timezone.now() + timedelta(hours=49)) == [broken]
    (message,) = mail.outbox
    assert message.to == ["webmaster@intergroup.example.org"]
    assert "cannot read your meeting feed" in message.subject
    assert "answered HTTP 500" in message.body and broken.location in message.body
    # Once per spell of trouble: not again the next day, whatever else fails meanwhile.
    sources.refresh_source(broken)
    assert sources.alert_contacts(now=timezone.now() + timedelta(hours=72)) == []
    assert len(mail.outbox) == 1

    # The held source has no contact: nobody to tell. With one, it is told too.
    held = four_sources["held"]
    held.contact_email = "secretary@district.example.org"
    held.save()
    with django_capture_on_commit_callbacks(execute=True):
        told = sources.alert_contacts(now=timezone.now() + timedelta(hours=49))
    assert told == [held]
    assert "waiting for review" in mail.outbox[-1].subject
    assert "drop 7 of the source's 10 meetings" in mail.outbox[-1].body


def test_a_failing_source_recovers_and_leaves_the_top_of_the_list(four_sources, feed_server):  # noqa: F811
    broken = four_sources["broken"]
    feed_server.publish("/broken.json", meetings(4, prefix="b", time="11:00"))
    assert sources.refresh_source(broken).outcome == AttemptOutcome.NOT_MODIFIED
    names = [h.source.name for h in queries.source_health(timezone.now())]
    assert names[0] == "held" and names[-1] in {"broken", "fresh"}


def test_an_import_run_by_hand_confirms_a_source_as_a_fetch_does(client, editor, four_sources):
    """The stale source imported by hand (manage.py import_feed) is confirmed now, not stale."""
    from django.core.management import call_command

    stale = four_sources["stale"]
    before = {h.source.name: h for h in queries.source_health(timezone.now())}["stale"]
    assert before.trouble == queries.Trouble.STALE
    path = stale.location
    call_command("import_feed", path, format="meeting-guide", source="stale", no_progress=True)
    after = {h.source.name: h for h in queries.source_health(timezone.now())}["stale"]
    assert after.trouble != queries.Trouble.STALE
    assert after.last_success_at > before.last_success_at
