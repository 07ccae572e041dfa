from django.contrib import admin

from .models import AccessToken, AccessTokenEvent


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "masked", "scope", "created_at", "expires_at", "last_used_at"]
    exclude = ["digest"]
    readonly_fields = ["user", "last_four", "scope", "created_at", "last_used_at", "last_used_ip"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AccessTokenEvent)
class AccessTokenEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "token_name", "owner_username", "actor_username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
