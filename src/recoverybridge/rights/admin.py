"""The retention runs' reports, for administrators (counts only: no person is named)."""

from django.contrib import admin
from django.http import HttpRequest

from recoverybridge.rights.models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    list_display = ("ran_at", "now", "dry_run", "report")
    list_filter = ("dry_run",)
    readonly_fields = ("ran_at", "now", "dry_run", "report")

    # A report is a record of what was done: read only.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RetentionRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RetentionRun | None = None) -> bool:
        return False
