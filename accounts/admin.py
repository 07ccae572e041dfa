"""
The user admin, with each user's tokens (read-only) and an action that revokes them all.

Revoking goes through access_tokens.services like everywhere else; deleting a user revokes
their tokens through it first, so even that leaves a line in the audit trail per token.
"""

from allauth.account.decorators import secure_admin_login
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Now
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from access_tokens.user_admin import TokenUserAdminMixin

from .forms import InviteForm
from .invitations import invite_user, send_invitation

User = get_user_model()

# One sign-in path: the admin's login page sends people to the site's (allauth's) sign-in, with
# its rate limits and second factor, and back to the admin afterwards. Its change-password
# page would check the current password outside those limits, so it sends people to the
# site's page too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.password_change = lambda request, extra_context=None: redirect("account_change_password")


# An authenticator app is what allauth counts as two-factor; recovery codes alone are not one.
_HAS_TOTP = Exists(Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP))


class TwoFactorFilter(admin.SimpleListFilter):
    title = "two-factor"
    parameter_name = "two_factor"

    def lookups(self, request, model_admin):
        return [("yes", "Set up"), ("no", "Not set up")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(_two_factor=True)
        if self.value() == "no":
            return queryset.filter(_two_factor=False)
        return queryset


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(TokenUserAdminMixin, DjangoUserAdmin):
    # The tokens inline, "Revoke all tokens" and deletes that revoke first come from the
    # mixin, as the access_tokens README tells any host to do.
    list_display = [*DjangoUserAdmin.list_display, "two_factor", "token_count"]
    list_filter = [*DjangoUserAdmin.list_filter, TwoFactorFilter]
    actions = ["send_invitation_again"]
    change_list_template = "admin/accounts/user_change_list.html"

    def get_urls(self):
        invite = path(
            "invite/", self.admin_site.admin_view(self.invite_view), name="auth_user_invite"
        )
        return [invite, *super().get_urls()]

    def invite_view(self, request):
        """Create an account for someone and mail them a link to choose a password."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = InviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = invite_user(request=request, **form.cleaned_data)
            self.log_addition(request, user, "Invited by email.")
            self.message_user(
                request,
                f"Invited {user.get_username()}: a link to set a password went to {user.email}.",
                messages.SUCCESS,
            )
            return redirect("admin:auth_user_changelist")
        ctx = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Invite a user",
            "form": form,
        }
        return TemplateResponse(request, "admin/accounts/invite.html", ctx)

    @admin.action(description="Send a new invitation (password-set link)", permissions=["add"])
    def send_invitation_again(self, request, queryset):
        sent = 0
        for user in queryset.filter(is_active=True).exclude(email=""):
            if not user.has_usable_password():
                send_invitation(request=request, user=user)
                sent += 1
        skipped = queryset.count() - sent
        note = f" Skipped {skipped}: they have a password or no email address." if skipped else ""
        self.message_user(request, f"Sent {sent} invitation(s).{note}", messages.SUCCESS)

    def get_queryset(self, request):
        live = Q(access_tokens__revoked_at__isnull=True) & (
            Q(access_tokens__expires_at__isnull=True) | Q(access_tokens__expires_at__gte=Now())
        )
        return (
            super()
            .get_queryset(request)
            .annotate(_token_count=Count("access_tokens", live), _two_factor=_HAS_TOTP)
        )

    @admin.display(description="two-factor", boolean=True, ordering="_two_factor")
    def two_factor(self, user) -> bool:
        return user._two_factor

    @admin.display(description="active tokens", ordering="_token_count")
    def token_count(self, user) -> int:
        return user._token_count
