"""Booklets: editors define them, builds store them (directory/booklets.py says what they print).

Defining, changing and removing a booklet is an editor's action, audited like any other; a
refusal is recorded too. Building is the system's: the stored PDF is a copy of what the directory
holds, replaced whole when a build succeeds and left as it was when one fails, so readers always
get the last good booklet.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from recoverybridge.accounts import access
from recoverybridge.accounts.actors import Actor, deny, signed_in
from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.directory import booklets, version
from recoverybridge.directory.booklets import DEFINITION_FIELDS, Area, Built
from recoverybridge.directory.models import AreaKind, Booklet

# Fields that belong to another kind of area are cleared, so a booklet says one thing.
AREA_FIELDS = {
    AreaKind.REGION: ("region",),
    AreaKind.CITY: ("city",),
    AreaKind.BOX: ("south", "west", "north", "east"),
}


def _existing(booklet_id: int) -> Booklet:
    booklet = booklets.booklet_by_id(booklet_id)
    if booklet is None:
        raise Booklet.DoesNotExist(f"no booklet {booklet_id}")
    return booklet


def _editor(actor: Actor, booklet: Booklet | None, what: str) -> User:
    """The acting user if they edit the directory; otherwise a refusal, recorded in a transaction of
    its own (so call this before the action's transaction starts)."""
    user = signed_in(actor)
    if not access.may(user, "directory.review"):
        raise deny(user, booklet, None, what)
    return user


def _definition(fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: fields.get(name) for name in DEFINITION_FIELDS}
    kind = values["area_kind"]
    for other, names in AREA_FIELDS.items():
        if other != kind:
            for name in names:
                values[name] = None if other == AreaKind.BOX else ""
    for name in ("title", "region", "city", "report_contact"):
        values[name] = (values[name] or "").strip()
    values["large_print"] = bool(values["large_print"])
    return values


def _unique_slug(values: dict[str, Any]) -> str:
    base = slugify(values["title"])[:50] or "booklet"
    if values["language"] != "en":
        base += f"-{values['language']}"
    if values["large_print"]:
        base += "-large-print"
    slug, n = base, 1
    while Booklet.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _queue_build(booklet_id: int) -> None:
    # Imported here: the task module imports this one.
    from recoverybridge.directory.tasks import build_booklet

    transaction.on_commit(lambda: build_booklet.enqueue(booklet_id), robust=True)


def define_booklet(actor: Actor, fields: dict[str, Any], *, now: datetime | None = None) -> Booklet:
    """A new booklet of an area; its first build is queued when the definition commits."""
    user = _editor(actor, None, "define a booklet")
    values = _definition(fields)
    booklets.check_area(Area.from_fields(values))
    with transaction.atomic():
        booklet = Booklet.objects.create(slug=_unique_slug(values), created_by=user, **values)
        audit.record(
            user,
            AuditAction.CREATE,
            booklet,
            changes={name: {"old": None, "new": value} for name, value in values.items()},
            at=now,
        )
        _queue_build(booklet.pk)
    return booklet


def change_booklet(
    actor: Actor, booklet_id: int, fields: dict[str, Any], *, now: datetime | None = None
) -> Booklet:
    """A new definition for a booklet (its address stays, so printed links keep working)."""
    user = _editor(actor, _existing(booklet_id), "change a booklet")
    values = _definition(fields)
    with transaction.atomic():
        booklet = Booklet.objects.select_for_update().defer("pdf").get(pk=booklet_id)
        booklets.check_area(Area.from_fields(values))
        before = audit.snapshot(booklet, DEFINITION_FIELDS)
        for name, value in values.items():
            setattr(booklet, name, value)
        changes = audit.diff(before, values)
        if changes:
            booklet.save(update_fields=[*values, "updated_at"])
            audit.record(user, AuditAction.UPDATE, booklet, changes=changes, at=now)
            version.bump()  # the finder links the booklet by its name and language
            _queue_build(booklet.pk)
    return booklet


def remove_booklet(actor: Actor, booklet_id: int, *, now: datetime | None = None) -> None:
    user = _editor(actor, _existing(booklet_id), "remove a booklet")
    with transaction.atomic():
        booklet = Booklet.objects.select_for_update().defer("pdf").get(pk=booklet_id)
        audit.record(user, AuditAction.DELETE, booklet, detail=f"booklet {booklet.slug}", at=now)
        booklet.delete()
        version.bump()  # the finder's pages stop linking it


def request_rebuild(actor: Actor, booklet_id: int, *, now: datetime | None = None) -> None:
    """An editor asks for a build now (after fixing listings, say)."""
    user = _editor(actor, _existing(booklet_id), "rebuild a booklet")
    with transaction.atomic():
        booklet = Booklet.objects.select_for_update().defer("pdf").get(pk=booklet_id)
        audit.record(user, AuditAction.UPDATE, booklet, detail="rebuild requested", at=now)
        _queue_build(booklet.pk)


# ---------------------------------------------------------------- builds (the system's)


def store_build(booklet_id: int, built: Built, *, now: datetime | None = None) -> None:
    """Replace the stored PDF with a new build."""
    extent = built.extent or (None, None, None, None)
    before = Booklet.objects.filter(pk=booklet_id).values_list(
        "extent_south", "extent_west", "extent_north", "extent_east"
    )
    if tuple(before.first() or ()) != extent:
        # The finder links a booklet to the places within its extent: its pages change.
        version.bump()
    Booklet.objects.filter(pk=booklet_id).update(
        pdf=built.pdf,
        built_at=now or timezone.now(),
        built_fingerprint=built.fingerprint,
        built_token=built.token,
        page_count=built.pages,
        meeting_count=built.meetings,
        build_error="",
        rebuild_queued_for="",
        rebuild_queued_at=None,
        extent_south=extent[0],
        extent_west=extent[1],
        extent_north=extent[2],
        extent_east=extent[3],
    )


def record_build_failure(booklet_id: int, error: Exception) -> None:
    """Say why a build failed, for the editors' page; the last good PDF stays."""
    message = f"{type(error).__name__}: {error}"[:500]
    Booklet.objects.filter(pk=booklet_id).update(build_error=message, rebuild_queued_for="")


def confirm_current(booklet_id: int, token: int | None) -> None:
    """The directory changed elsewhere: the stored PDF still prints this area as it is."""
    Booklet.objects.filter(pk=booklet_id).update(built_token=token)


def queue_rebuild(booklet: Booklet, fingerprint: str, *, now: datetime | None = None) -> bool:
    """Queue a rebuild for `fingerprint` unless one is already waiting; whether one was queued."""
    moment = now or timezone.now()
    with transaction.atomic():
        locked = Booklet.objects.select_for_update().defer("pdf").get(pk=booklet.pk)
        if not booklets.needs_queueing(locked, fingerprint, moment):
            return False
        Booklet.objects.filter(pk=booklet.pk).update(rebuild_queued_for=fingerprint, rebuild_queued_at=moment)
        _queue_build(booklet.pk)
    return True


def rebuild(booklet_id: int, *, now: datetime | None = None) -> Booklet | None:
    """Build a booklet if what it prints has changed (the task's work); None if it is gone."""
    booklet = booklets.booklet_by_id(booklet_id)
    if booklet is None:
        return None
    gathered = booklets.gather(booklet)
    if gathered.fingerprint == booklet.built_fingerprint:
        confirm_current(booklet.pk, gathered.token)
        Booklet.objects.filter(pk=booklet.pk).update(rebuild_queued_for="")
    else:
        try:
            built = booklets.build(booklet, now=now, gathered=gathered)
        except Exception as error:
            record_build_failure(booklet.pk, error)
            raise
        store_build(booklet.pk, built, now=now)
    return booklets.booklet_by_id(booklet_id)
