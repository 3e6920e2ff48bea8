"""Administrators manage organisations and teams here. Person records are deliberately not
in the admin: they are read and changed only through the scoped, audited staff pages."""

from django.contrib import admin

from recoverybridge.organisations.models import Organisation, Team


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "area")
    list_filter = ("kind",)
    search_fields = ("name", "area")
    # The API token is issued with `manage.py issue_api_token`; only its hash is stored.
    exclude = ("api_token_hash",)
    inlines = [TeamInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "area")
    list_filter = ("organisation",)
    search_fields = ("name", "organisation__name")
