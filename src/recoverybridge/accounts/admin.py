from django.contrib import admin

from recoverybridge.accounts.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "team")
    list_filter = ("role", "team__organisation")
    search_fields = ("user__username", "team__name", "team__organisation__name")
    autocomplete_fields = ("team",)
    raw_id_fields = ("user",)
