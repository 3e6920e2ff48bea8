"""Every view and change of a person's record leaves exactly one audit event, written with
the change; the trail holds no names or notes; nobody can change or delete it, not even
with SQL; managers read and export it, and the export is itself on the trail."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from recoverybridge.audit import actions as audit
from recoverybridge.audit.middleware import AuditContextMiddleware
from recoverybridge.audit.models import AppendOnlyError, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.actions import export_audit_trail
from recoverybridge.care.models import (
    AssistedStepKind,
    ConsentPurpose,
    ContactKind,
    EpisodeEnd,
    EpisodeKind,
    MutualAidMilestone,
    ReferralTargetKind,
    TaskStatus,
)
from recoverybridge.care.queries import person_trail
from recoverybridge.directory.models import Fellowship

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _fellowship():
    return Fellowship.objects.get(slug="aa")


def _referral(w):
    return actions.create_referral(
        w.bob, w.pat, target_kind=ReferralTargetKind.FELLOWSHIP, fellowship=_fellowship(), now=NOW
    )


def _bridge_referral(w):
    actions.give_consent(w.bob, w.pat, purpose=ConsentPurpose.REFERRAL, recipient=w.bridge, now=NOW)
    return actions.create_referral(
        w.bob, w.pat, target_kind=ReferralTargetKind.OTHER_SERVICE, target_organisation=w.bridge, now=NOW
    )


# name: (set-up returning context, the act, expected action, expected object type)
CASES = {
    "create person": (lambda w: None, lambda w, _: actions.create_person(w.bob, w.detox, given_name="Lee"), "create", "care.person"),
    "update person": (lambda w: None, lambda w, _: actions.update_person(w.bob, w.pat, given_name="Patricia", on_moud=True), "update", "care.person"),
    "add related person": (lambda w: None, lambda w, _: actions.add_related_person(w.bob, w.pat, name="Jo", relationship="sister"), "create", "care.relatedperson"),
    "give consent": (lambda w: None, lambda w, _: actions.give_consent(w.bob, w.pat, purpose=ConsentPurpose.EVALUATION), "create", "care.consent"),
    "revoke consent": (lambda w: actions.give_consent(w.bob, w.pat, purpose=ConsentPurpose.EVALUATION), lambda w, c: actions.revoke_consent(w.bob, c), "update", "care.consent"),
    "create referral": (lambda w: None, lambda w, _: _referral(w), "create", "care.referral"),
    "set status": (_referral, lambda w, r: actions.set_referral_status(w.bob, r, TaskStatus.IN_PROGRESS), "update", "care.referral"),
    "performer sets status": (_bridge_referral, lambda w, r: actions.set_referral_status(w.nina, r, TaskStatus.ACCEPTED), "update", "care.referral"),
    "organisation sets status": (_bridge_referral, lambda w, r: actions.set_referral_status(w.bridge, r, TaskStatus.REJECTED), "update", "care.referral"),
    "business status": (_referral, lambda w, r: actions.set_business_status(w.bob, r, MutualAidMilestone.ATTENDED_FIRST), "update", "care.referral"),
    "assisted step": (_referral, lambda w, r: actions.record_assisted_step(w.bob, r, kind=AssistedStepKind.INTRODUCED, on=date(2026, 3, 3)), "create", "care.assistedstep"),
    "complete follow-up": (_referral, lambda w, r: actions.complete_follow_up(w.bob, r.follow_ups.first(), result="not-yet", outcome="fine"), "update", "care.followup"),
    "start episode": (lambda w: None, lambda w, _: actions.start_episode(w.bob, w.pat, kind=EpisodeKind.DETOX, started_on=date(2026, 3, 1)), "create", "care.episode"),
    "end episode": (lambda w: actions.start_episode(w.bob, w.pat, kind=EpisodeKind.DETOX, started_on=date(2026, 3, 1)), lambda w, e: actions.end_episode(w.bob, e, ended_on=date(2026, 3, 8), end_reason=EpisodeEnd.COMPLETED), "update", "care.episode"),
    "log contact": (lambda w: None, lambda w, _: actions.log_contact(w.bob, w.pat, kind=ContactKind.PHONE, at=NOW, note="talked about NA"), "create", "care.contact"),
    "view": (lambda w: None, lambda w, _: actions.record_view(w.bob, w.pat), "view", "care.person"),
    "print": (lambda w: None, lambda w, _: actions.record_print(w.bob, w.pat, detail="options list"), "print", "care.person"),
    "export referral": (_bridge_referral, lambda w, r: actions.record_disclosure(w.bridge, r, detail="FHIR") or r, "export", "care.referral"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_each_view_and_change_leaves_exactly_one_event(world, name):
    arrange, act, action, object_type = CASES[name]
    context = arrange(world)
    before = AuditEvent.objects.count()
    result = act(world, context)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event.action == action
    assert event.object_type == object_type
    obj = result if result is not None and hasattr(result, "pk") else None
    expected_id = str(obj.pk) if obj is not None else str(world.pat.pk)
    assert event.object_id == expected_id
    person_id = result.pk if object_type == "care.person" and obj is not None else world.pat.pk
    assert event.person_id == person_id
    assert event.actor is not None or event.actor_organisation == world.bridge


def test_a_refused_view_is_recorded_as_denied(world):
    with pytest.raises(PermissionDenied):
        actions.record_view(world.nina, world.pat)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.person_id) == ("denied", world.nina, world.pat.pk)


def test_nothing_is_recorded_when_a_change_fails(world):
    with pytest.raises(ValueError):
        actions.end_episode(
            world.bob,
            actions.start_episode(world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=date(2026, 3, 5)),
            ended_on=date(2026, 3, 1),
            end_reason=EpisodeEnd.COMPLETED,
        )
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["create"]


def test_the_trail_holds_no_names_contact_details_or_notes(world):
    actions.update_person(world.bob, world.pat, given_name="Patricia", phone="+44 7700 900123", on_moud=True)
    actions.log_contact(world.bob, world.pat, kind=ContactKind.PHONE, at=NOW, note="relapsed at the weekend")
    actions.add_related_person(
        world.bob, world.pat, name="Jo Bloggs", relationship="sister", contact="jo@x.org"
    )
    dump = json.dumps(list(AuditEvent.objects.values("changes", "detail")))
    for secret in ("Patricia", "Pat", "900123", "relapsed", "Jo Bloggs", "jo@x.org"):
        assert secret not in dump
    update = AuditEvent.objects.get(action="update")
    assert update.changes["given_name"] == {"old": "[hidden]", "new": "[hidden]"}
    assert update.changes["on_moud"] == {"old": False, "new": True}  # non-identifying values kept


def test_an_unchanged_update_writes_nothing(world):
    actions.update_person(world.bob, world.pat, given_name="Pat")
    assert not AuditEvent.objects.exists()


def test_request_id_and_address_come_from_the_request(world):
    def view(request):
        audit.record(world.bob, "view", world.pat)
        return HttpResponse("ok")

    middleware = AuditContextMiddleware(view)
    response = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="abc-123", REMOTE_ADDR="192.0.2.7"))
    assert response["X-Request-ID"] == "abc-123"
    # An unsafe incoming id is replaced by a generated one.
    response = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="<script>", REMOTE_ADDR="192.0.2.8"))
    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated != "<script>"
    first, second = AuditEvent.objects.order_by("id")
    assert (first.request_id, first.remote_addr) == ("abc-123", "192.0.2.7")
    assert (second.request_id, second.remote_addr) == (generated, "192.0.2.8")
    # Outside a request (commands, tasks) the context is empty.
    outside = audit.record(world.bob, "view", world.pat)
    assert (outside.request_id, outside.remote_addr) == ("", None)


def test_events_cannot_be_changed_or_deleted_through_the_orm(world):
    event = audit.record(world.bob, "view", world.pat)
    event.detail = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_auditevent SET detail = 'edited'", "DELETE FROM audit_auditevent"],
)
def test_the_database_refuses_updates_and_deletes(world, sql):
    audit.record(world.bob, "view", world.pat)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.get().detail == ""


def test_managers_read_the_persons_trail(world):
    actions.record_view(world.bob, world.pat)
    actions.update_person(world.carol, world.pat, on_moud=True)
    assert [e.action for e in person_trail(world.alice, world.pat)] == ["update", "view"]
    assert person_trail(world.sam, world.pat).count() == 2
    for not_manager in (world.bob, world.carol, world.dave, world.nina, world.cora, world.ada):
        with pytest.raises(PermissionDenied):
            person_trail(not_manager, world.pat)


def test_the_export_is_csv_of_the_managers_scope_and_is_itself_audited(world):
    actions.record_view(world.bob, world.pat)
    actions.record_view(world.dave, world.quinn)
    actions.record_view(world.nina, world.rowan)
    out = io.StringIO()
    assert export_audit_trail(world.alice, out) == 1  # Pat only: Alice manages Detox
    rows = out.getvalue().splitlines()
    assert rows[0].startswith("at,action,actor")
    assert "RB-PAT00001" in rows[1] and "bob" in rows[1]
    export = AuditEvent.objects.filter(action="export", actor=world.alice).get()
    assert export.object_type == "audit.auditevent"
    assert "1 events" in export.detail

    out = io.StringIO()
    # Sam manages both Harbour teams: Pat's and Quinn's views, not Rowan's (nor Alice's export,
    # which concerns no one person).
    assert export_audit_trail(world.sam, out, since=NOW - timedelta(days=3650)) == 2
    with pytest.raises(PermissionDenied):
        export_audit_trail(world.bob, io.StringIO())
    with pytest.raises(PermissionDenied):
        export_audit_trail(world.alice, io.StringIO(), person=world.quinn)
