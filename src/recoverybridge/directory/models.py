"""The cross-fellowship meeting directory.

Meeting times are wall-clock times in the meeting's own IANA zone; weekday 0 is
Sunday, as in Meeting Guide. Every meeting remembers where it came from
(MeetingSource), and one meeting may come from several feeds.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Approach(models.TextChoices):
    TWELVE_STEP = "twelve-step", _("Twelve-step")
    SECULAR = "secular", _("Secular")
    FAITH_BASED = "faith-based", _("Faith-based")
    INDIGENOUS = "indigenous", _("Indigenous")
    MEDICATION_ASSISTED = "medication-assisted", _("Medication-assisted")
    OTHER = "other", _("Other")


class Fellowship(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    approach = models.CharField(_("approach"), max_length=24, choices=Approach.choices)
    family_focused = models.BooleanField(
        _("family-focused"), default=False, help_text=_("For family members and friends.")
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("fellowship")
        verbose_name_plural = _("fellowships")

    def __str__(self) -> str:
        return self.name


class AttributeCategory(models.TextChoices):
    FORMAT = "format", _("Format")
    AUDIENCE = "audience", _("Audience")
    LANGUAGE = "language", _("Language")
    ACCESSIBILITY = "accessibility", _("Accessibility")
    APPROACH = "approach", _("Approach")
    MOUD = "moud", _("Medication for opioid use disorder")
    OTHER = "other", _("Other")


class Attribute(models.Model):
    """One term of the unified vocabulary, whatever code a source uses for it."""

    slug = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    # Names in other languages, {"es": "..."}; English is `name`.
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=AttributeCategory.choices)
    # ISO 639-1 code for language attributes ("es"), blank otherwise.
    language_code = models.CharField(_("language code"), max_length=8, blank=True, db_index=True)

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return str(self.translations.get(language, self.name))


class SourceSystem(models.TextChoices):
    MEETING_GUIDE = "meeting-guide", "Meeting Guide JSON"
    BMLT = "bmlt", "BMLT"
    HSDS = "hsds", "Open Referral HSDS 3.0"


class AttributeMapping(models.Model):
    """A source system's code for an attribute.

    Codes mean different things in different fellowships: in Meeting Guide data
    `A` is Secular for AA but Age-restricted for ACA. A mapping with a
    fellowship wins over the one without (the source system's default).
    """

    source_system = models.CharField(_("source system"), max_length=16, choices=SourceSystem.choices)
    fellowship = models.ForeignKey(
        Fellowship, on_delete=models.CASCADE, null=True, blank=True, related_name="attribute_mappings"
    )
    code = models.CharField(_("code"), max_length=40)
    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="mappings")

    class Meta:
        verbose_name = _("attribute mapping")
        verbose_name_plural = _("attribute mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "fellowship", "code"], name="unique_code_per_fellowship"
            ),
            models.UniqueConstraint(
                fields=["source_system", "code"],
                condition=models.Q(fellowship__isnull=True),
                name="unique_default_code",
            ),
        ]

    def __str__(self) -> str:
        scope = self.fellowship.slug if self.fellowship_id and self.fellowship else "*"
        return f"{self.source_system}:{scope}:{self.code} -> {self.attribute.slug}"


class Location(models.Model):
    name = models.CharField(_("name"), max_length=255, blank=True)
    address = models.CharField(_("street address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    state = models.CharField(_("state or province"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)
    formatted_address = models.CharField(_("formatted address"), max_length=500, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    approximate = models.BooleanField(
        _("approximate"), default=False, help_text=_("A city or area, not a street address.")
    )
    # Most general first, joined with " > " ("Illinois > Chicago > Wicker Park").
    region_path = models.CharField(_("region"), max_length=500, blank=True, db_index=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    notes = models.TextField(_("location notes"), blank=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        indexes = [models.Index(fields=["latitude", "longitude"], name="location_lat_lon")]

    def __str__(self) -> str:
        return self.name or self.formatted_address or f"Location {self.pk}"

    @property
    def regions(self) -> list[str]:
        return [part for part in self.region_path.split(" > ") if part]


class AttendanceMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid")
    INACTIVE = "inactive", _("Inactive")


class MoudStance(models.TextChoices):
    WELCOMING = "welcoming", _("Welcomes people on MOUD")
    UNKNOWN = "unknown", _("Not known")
    NOT_WELCOMING = "not_welcoming", _("Does not welcome people on MOUD")


class MeetingStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class Meeting(models.Model):
    fellowship = models.ForeignKey(Fellowship, on_delete=models.PROTECT, related_name="meetings")
    name = models.CharField(_("name"), max_length=255)
    group_name = models.CharField(_("group"), max_length=255, blank=True)
    group_notes = models.TextField(_("group notes"), blank=True)
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="meetings"
    )
    # Null weekday and start time: "by appointment".
    weekday = models.PositiveSmallIntegerField(_("weekday"), null=True, blank=True)
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    end_time = models.TimeField(_("end time"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64)
    attendance_mode = models.CharField(
        _("attendance"), max_length=16, choices=AttendanceMode.choices, default=AttendanceMode.IN_PERSON
    )
    conference_url = models.URLField(_("conference link"), max_length=500, blank=True)
    conference_url_notes = models.TextField(_("conference link notes"), blank=True)
    conference_phone = models.CharField(_("conference phone"), max_length=120, blank=True)
    conference_phone_notes = models.TextField(_("conference phone notes"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    website = models.URLField(_("web page"), max_length=500, blank=True)
    attributes = models.ManyToManyField(Attribute, blank=True, related_name="meetings")
    moud_stance = models.CharField(
        _("MOUD stance"), max_length=16, choices=MoudStance.choices, default=MoudStance.UNKNOWN
    )
    moud_source = models.CharField(
        _("MOUD stance source"), max_length=255, blank=True, help_text=_("Who said so.")
    )
    moud_verified_on = models.DateField(_("MOUD stance verified on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["weekday", "start_time", "name"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [
            models.Index(fields=["status", "weekday", "start_time"], name="meeting_when"),
            models.Index(fields=["fellowship", "weekday", "start_time"], name="meeting_fellowship_when"),
            # Searches not bounded by a place (online, "starting soon"): a seek per time zone's
            # local window of (weekday, start), and counts and facets from the index alone.
            models.Index(
                fields=[
                    "attendance_mode",
                    "status",
                    "timezone",
                    "weekday",
                    "start_time",
                    "fellowship",
                    "moud_stance",
                ],
                name="meeting_mode_zone_when",
            ),
            # Search joins meetings to the locations in a bounding box: this answers that
            # join (and the weekday and start filters) from the index alone.
            models.Index(
                fields=[
                    "location",
                    "weekday",
                    "start_time",
                    "status",
                    "attendance_mode",
                    "fellowship",
                    "timezone",
                ],
                name="meeting_place_when",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__isnull=True) | models.Q(weekday__lte=6),
                name="meeting_weekday_0_to_6",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def by_appointment(self) -> bool:
        return self.weekday is None or self.start_time is None


class FeedSource(models.Model):
    """A feed the directory imports: one intergroup's Meeting Guide JSON, a BMLT root..."""

    name = models.SlugField(_("name"), max_length=80, unique=True)
    format = models.CharField(_("format"), max_length=16, choices=SourceSystem.choices)
    location = models.CharField(_("URL or path"), max_length=500, blank=True)
    fellowship = models.ForeignKey(
        Fellowship,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feed_sources",
        help_text=_("The fellowship of every meeting in this feed."),
    )
    default_timezone = models.CharField(
        _("default time zone"),
        max_length=64,
        blank=True,
        help_text=_("Used when a record has no time zone, coordinates or known region."),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=8,
        blank=True,
        help_text=_("ISO 639-1 code of meetings that name no language."),
    )
    formats_location = models.CharField(
        _("BMLT formats URL or path"),
        max_length=500,
        blank=True,
        help_text=_("A BMLT root server's GetFormats answer, for its format codes."),
    )
    # The schedule: the task queue fetches the source every `refresh_minutes` (0: only by hand).
    refresh_minutes = models.PositiveIntegerField(
        _("fetch every (minutes)"), default=1440, help_text=_("0: only when someone imports it.")
    )
    next_refresh_at = models.DateTimeField(_("next fetch"), null=True, blank=True)
    contact_email = models.EmailField(
        _("contact e-mail"), blank=True, help_text=_("Told when the feed fails or an import is held.")
    )
    # What the source last sent that was applied (or decided on): the conditional request's
    # validators, and the body's hash for servers that send neither.
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    # When the contact was last told of trouble (once per spell of failing or waiting).
    alerted_at = models.DateTimeField(_("contact last told"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("feed source")
        verbose_name_plural = _("feed sources")

    def __str__(self) -> str:
        return self.name


class MeetingSource(models.Model):
    """Provenance: this meeting appears in this feed under this key."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="sources")
    feed_source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="meeting_sources")
    source_key = models.CharField(_("key in the feed"), max_length=255)
    # Hash of the normalised record: an unchanged record is skipped on re-import.
    fingerprint = models.CharField(max_length=64)
    source_updated = models.DateTimeField(_("updated in the feed"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    active = models.BooleanField(_("still in the feed"), default=True)

    class Meta:
        verbose_name = _("meeting source")
        verbose_name_plural = _("meeting sources")
        constraints = [
            models.UniqueConstraint(fields=["feed_source", "source_key"], name="unique_key_per_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.feed_source.name}:{self.source_key}"


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    feed_source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="import_runs")
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices)
    records_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(
        default=0, help_text=_("Records that matched a meeting already known from another source.")
    )
    deactivated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"key": "slug", "reason": "..."}] for every record that could not be used.
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    # HSDS services that are not meetings (Service), counted apart from meetings.
    services_created = models.PositiveIntegerField(default=0)
    services_updated = models.PositiveIntegerField(default=0)
    services_unchanged = models.PositiveIntegerField(default=0)
    services_gone = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.feed_source.name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class HeldStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an editor")
    APPLIED = "applied", _("Applied")
    DISCARDED = "discarded", _("Discarded")
    SUPERSEDED = "superseded", _("Replaced by a later version of the feed")


class HeldImport(models.Model):
    """A fetched feed that would have dropped or changed too much of a source at once.

    Kept whole (its bytes) with the difference it would make, field by field, until a
    directory editor applies or discards it (directory/actions/sources.py). Nothing is
    deleted either way: dropped meetings only ever become inactive.
    """

    feed_source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="held_imports")
    held_at = models.DateTimeField(_("held"))
    status = models.CharField(
        _("status"), max_length=16, choices=HeldStatus.choices, default=HeldStatus.PENDING
    )
    reason = models.TextField(_("why it was held"))
    # The feed as fetched, and what the source said about it (kept on the source once decided).
    body = models.BinaryField()
    content_sha256 = models.CharField(max_length=64)
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    # Meetings the source listed before, and what the feed would do to them.
    active_before = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    dropped = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # {"added": [...], "changed": [...], "dropped": [...]} (directory/review.py).
    diff = models.JSONField(default=dict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)
    applied_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("held import")
        verbose_name_plural = _("held imports")
        indexes = [models.Index(fields=["feed_source", "status"], name="heldimport_source_status")]

    def __str__(self) -> str:
        return f"{self.feed_source.name} {self.held_at:%Y-%m-%d %H:%M} {self.status}"


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Imported")
    NOT_MODIFIED = "not_modified", _("Not modified")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held for an editor")


class AttemptTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    COMMAND = "command", _("Command")
    EDITOR = "editor", _("Editor")


class FeedAttempt(models.Model):
    """One fetch of a feed source, whatever came of it (directory/actions/sources.py).

    Not-modified answers are kept too: they are the proof that a source was checked.
    """

    feed_source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="attempts")
    trigger = models.CharField(_("started by"), max_length=16, choices=AttemptTrigger.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING
    )
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    bytes_read = models.PositiveBigIntegerField(_("bytes read"), default=0)
    import_run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts"
    )
    records_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"key": ..., "reason": ...}]: records refused, as the import report gives them.
    refused = models.JSONField(default=list, blank=True)
    # {"timezone": n, "coordinates": n, "types": n}: records that came without them.
    missing = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    held_import = models.ForeignKey(
        HeldImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("feed attempt")
        verbose_name_plural = _("feed attempts")
        indexes = [models.Index(fields=["feed_source", "-started_at"], name="feedattempt_latest")]

    def __str__(self) -> str:
        return f"{self.feed_source.name} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ChangeRequest(models.Model):
    """A reported correction to a listing, reviewed by a directory editor.

    `proposed` holds new values for Meeting fields ({"start_time": "19:30"});
    approving applies them. Editors' own changes (a MOUD stance they verified)
    are recorded as approved requests too, so every change says who and when.
    Nothing personal is kept beyond an optional contact email.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="change_requests")
    proposed = models.JSONField(_("proposed values"), default=dict, blank=True)
    message = models.TextField(_("what is wrong"), blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_changes",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        permissions = [("review_changerequest", "Can review change requests and set MOUD stances")]
        indexes = [models.Index(fields=["status", "created_at"], name="changerequest_queue")]

    def __str__(self) -> str:
        return f"{self.meeting} ({self.status})"


class DirectoryVersion(models.Model):
    """One row (id 1) whose token changes whenever meetings change.

    Database triggers (directory/version.py) set a new random token in the same
    transaction as the change, whatever makes it (imports, editors, the admin, raw
    SQL), so a value computed from the directory can be reused while the token is
    the same. Random rather than a counter: a rolled-back change restores the old
    token, and a counter would then hand out the same number again for other data.
    """

    token = models.BigIntegerField(default=0)
    # When the token last changed (set by the same triggers): public answers' Last-Modified.
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"directory version {self.token}"


class AreaKind(models.TextChoices):
    REGION = "region", _("A region")
    CITY = "city", _("A town or city")
    BOX = "box", _("A rectangle on the map")


class PaperSize(models.TextChoices):
    A4 = "A4", _("A4")
    LETTER = "letter", _("US Letter")


class Booklet(models.Model):
    """A printed directory of one area, defined by a directory editor (directory/booklets.py).

    The last good PDF is kept here with the fingerprint of what it printed, so every web process
    serves the same file and a stale one is served until its rebuild (a task) replaces it.
    """

    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(
        _("area name as printed"), max_length=120, help_text=_("For example: Sussex County, Delaware.")
    )
    area_kind = models.CharField(_("area"), max_length=8, choices=AreaKind.choices, default=AreaKind.REGION)
    region = models.CharField(_("region"), max_length=500, blank=True)
    city = models.CharField(_("town or city"), max_length=120, blank=True)
    south = models.FloatField(_("south edge (latitude)"), null=True, blank=True)
    west = models.FloatField(_("west edge (longitude)"), null=True, blank=True)
    north = models.FloatField(_("north edge (latitude)"), null=True, blank=True)
    east = models.FloatField(_("east edge (longitude)"), null=True, blank=True)
    # A code of settings.LANGUAGES, checked by the form (no choices here: no migration per language).
    language = models.CharField(_("language"), max_length=8)
    large_print = models.BooleanField(_("large print"), default=False)
    paper = models.CharField(_("paper"), max_length=8, choices=PaperSize.choices, default=PaperSize.A4)
    report_contact = models.TextField(
        _("how readers without internet can report a change"),
        max_length=300,
        blank=True,
        help_text=_(
            "Printed in the booklet: a phone number or postal address, for prisons and others offline."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The last good build.
    pdf = models.BinaryField(null=True, editable=False)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    built_fingerprint = models.CharField(max_length=64, blank=True)
    # The directory version token the build was last found current for (directory/version.py).
    built_token = models.BigIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), default=0)
    meeting_count = models.PositiveIntegerField(_("meetings"), default=0)
    build_error = models.CharField(_("last build error"), max_length=500, blank=True)
    # A rebuild already queued for this fingerprint (so a busy download page queues one only).
    rebuild_queued_for = models.CharField(max_length=64, blank=True)
    rebuild_queued_at = models.DateTimeField(null=True, blank=True)
    # Where its meetings are, for the finder's link "a printed list of this area".
    extent_south = models.FloatField(null=True, blank=True)
    extent_west = models.FloatField(null=True, blank=True)
    extent_north = models.FloatField(null=True, blank=True)
    extent_east = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["title", "language", "large_print"]
        verbose_name = _("booklet")
        verbose_name_plural = _("booklets")
        indexes = [
            models.Index(
                fields=["extent_south", "extent_north", "extent_west", "extent_east"], name="booklet_extent"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ServiceCategory(models.TextChoices):
    """The kinds of help beyond meetings a referral may point to (mapped from HSDS terms)."""

    TREATMENT = "treatment", _("Treatment")
    DETOX = "detox", _("Detox (withdrawal management)")
    RECOVERY_HOUSING = "recovery-housing", _("Recovery housing")
    RECOVERY_COMMUNITY = "recovery-community", _("Recovery community organisation")
    HARM_REDUCTION = "harm-reduction", _("Harm reduction")
    MOUD_PRESCRIBER = "moud-prescriber", _("MOUD prescriber")
    OTHER = "other", _("Other services")


class Service(models.Model):
    """An HSDS service that is not a meeting, as its feed publishes it.

    One HSDS id is one service, whichever feed brings it (HSDS ids are meant to be
    globally unique); the last feed to list it is its source. A service gone from
    its feed is kept, marked no longer listed: nothing is deleted.
    """

    hsds_id = models.CharField(_("HSDS id"), max_length=255, unique=True)
    feed_source = models.ForeignKey(
        FeedSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    category = models.CharField(_("category"), max_length=24, choices=ServiceCategory.choices, db_index=True)
    name = models.CharField(_("name"), max_length=255)
    alternate_name = models.CharField(_("other name"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)
    organization_hsds_id = models.CharField(_("organisation HSDS id"), max_length=255, blank=True)
    organization_name = models.CharField(_("organisation"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=32, default="active")
    url = models.URLField(_("web page"), max_length=500, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phones = models.TextField(_("phone numbers"), blank=True)
    schedules = models.TextField(_("opening hours"), blank=True)
    taxonomy = models.TextField(_("taxonomy terms"), blank=True)
    languages = models.CharField(_("languages"), max_length=255, blank=True)
    location_hsds_id = models.CharField(_("location HSDS id"), max_length=255, blank=True)
    location_name = models.CharField(_("place"), max_length=255, blank=True)
    address = models.CharField(_("street address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    state = models.CharField(_("state or province"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    source_updated = models.DateTimeField(_("updated in the feed"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    listed = models.BooleanField(_("still in the feed"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [models.Index(fields=["latitude", "longitude"], name="service_lat_lon")]

    def __str__(self) -> str:
        return self.name

    @property
    def formatted_address(self) -> str:
        region = " ".join(filter(None, (self.state, self.postal_code)))
        return ", ".join(part for part in (self.address, self.city, region, self.country) if part)

    @property
    def phone_numbers(self) -> list[str]:
        return [line for line in self.phones.splitlines() if line.strip()]
