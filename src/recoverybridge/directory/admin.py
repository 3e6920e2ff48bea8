from typing import Any

from django.contrib import admin
from django.db.models import URLField

from recoverybridge.directory import models

# Web addresses typed without a scheme are https (Django 6's default; no deprecation warning).
URL_FIELDS: dict[type, dict[str, Any]] = {URLField: {"assume_scheme": "https"}}


@admin.register(models.Fellowship)
class FellowshipAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["name", "slug", "approach", "family_focused"]
    list_filter = ["approach", "family_focused"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "language_code"]
    list_filter = ["category"]
    search_fields = ["name", "slug"]


@admin.register(models.AttributeMapping)
class AttributeMappingAdmin(admin.ModelAdmin):
    list_display = ["source_system", "fellowship", "code", "attribute"]
    list_filter = ["source_system", "fellowship"]
    search_fields = ["code", "attribute__name"]
    list_select_related = ["fellowship", "attribute"]


@admin.register(models.Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "city", "country", "timezone", "approximate"]
    search_fields = ["name", "formatted_address", "city", "postal_code"]
    list_filter = ["approximate", "country"]


class MeetingSourceInline(admin.TabularInline):
    model = models.MeetingSource
    extra = 0
    readonly_fields = ["feed_source", "source_key", "source_updated", "first_seen", "last_seen", "active"]
    exclude = ["fingerprint"]


@admin.register(models.Meeting)
class MeetingAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["name", "fellowship", "weekday", "start_time", "timezone", "attendance_mode", "status"]
    list_filter = ["status", "attendance_mode", "moud_stance", "fellowship", "weekday"]
    search_fields = ["name", "group_name", "notes"]
    raw_id_fields = ["location"]
    filter_horizontal = ["attributes"]
    list_select_related = ["fellowship"]
    inlines = [MeetingSourceInline]


@admin.register(models.FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "fellowship", "refresh_minutes", "next_refresh_at", "location"]
    list_filter = ["format"]
    readonly_fields = ["etag", "last_modified", "content_sha256"]


@admin.register(models.FeedAttempt)
class FeedAttemptAdmin(admin.ModelAdmin):
    list_display = [
        "feed_source",
        "started_at",
        "trigger",
        "outcome",
        "http_status",
        "records_read",
        "rejected",
    ]
    list_filter = ["outcome", "feed_source"]
    readonly_fields = [field.name for field in models.FeedAttempt._meta.fields]


@admin.register(models.ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "feed_source",
        "started_at",
        "status",
        "records_read",
        "created",
        "updated",
        "unchanged",
        "merged",
        "deactivated",
        "rejected",
    ]
    list_filter = ["status", "feed_source"]
    readonly_fields = [field.name for field in models.ImportRun._meta.fields]


@admin.register(models.HeldImport)
class HeldImportAdmin(admin.ModelAdmin):
    """Read-only here: editors apply or discard held imports on their review page."""

    list_display = ["feed_source", "held_at", "status", "active_before", "added", "changed", "dropped"]
    list_filter = ["status", "feed_source"]
    exclude = ["body"]
    readonly_fields = [field.name for field in models.HeldImport._meta.fields if field.name != "body"]

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(models.Service)
class ServiceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    """Services beyond meetings, as their HSDS feeds publish them: read here, changed at the source."""

    list_display = ["name", "category", "organization_name", "city", "feed_source", "listed", "last_seen"]
    list_filter = ["category", "listed", "feed_source"]
    search_fields = ["name", "organization_name", "city", "postal_code", "hsds_id"]
    readonly_fields = [field.name for field in models.Service._meta.fields]
