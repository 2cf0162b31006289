from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.access import may
from accounts.choices import Verb
from accounts.forms import StewardAdminAuthenticationForm
from accounts.models import (
    ApiToken,
    ExternalIdentity,
    LoginEvent,
    Role,
    RoleAssignment,
    Team,
    TeamMembership,
    User,
)
from accounts.services.identities import external_identity_link, external_identity_unlink
from accounts.services.teams import is_administrator
from core.admin import ReadOnlyAdmin


class MembershipInline(admin.TabularInline):
    """Members of a team. Adding and removing go through the services (administrators only,
    audited); the inline itself never writes rows."""

    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "source", "created_at"]
    readonly_fields = ["source", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "email", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "teams"]
    search_fields = ["username", "display_name", "email", "first_name", "last_name"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Steward", {"fields": ("display_name", "directory_dn")}),
    )
    readonly_fields = ["directory_dn", "last_login", "date_joined"]

    def get_fieldsets(self, request, obj=None):
        # Only superusers see (and so can change) superuser status, groups and permissions:
        # nobody else can raise anyone's privileges, their own included.
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [(name, opts) for name, opts in fieldsets if name != "Permissions"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        # New members are added through the service; removals likewise.
        for inline_form in formset.forms:
            if not inline_form.has_changed() and not formset._should_delete_form(inline_form):
                continue
            user = inline_form.cleaned_data.get("user")
            if formset._should_delete_form(inline_form) and inline_form.instance.pk:
                services.team_remove_member(
                    actor=request.user, team=form.instance, user=inline_form.instance.user
                )
            elif user is not None and not inline_form.instance.pk:
                services.team_add_member(actor=request.user, team=form.instance, user=user)

    def delete_model(self, request, obj):
        # Through the service: each removed grant and membership goes into the audit chain.
        services.team_delete(actor=request.user, team=obj)

    def delete_queryset(self, request, queryset):
        for team in queryset:
            services.team_delete(actor=request.user, team=team)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    """What each role means and requires; what it may do is fixed in code."""

    list_display = ["name", "description", "qualifications", "updated_at"]
    fields = ["name", "description", "qualifications"]
    readonly_fields = ["name"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.role_describe(
            actor=request.user,
            role=obj,
            description=obj.description,
            qualifications=obj.qualifications,
        )


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """Who holds which role, everywhere or for one team. Granting and revoking go through the
    services, which refuse non-administrators and self-grants."""

    list_display = ["user", "role", "team", "source", "granted_by", "created_at"]
    list_filter = ["role", "team", "source"]
    search_fields = ["user__username", "user__email", "note"]
    autocomplete_fields = ["user"]
    fields = ["user", "role", "team", "note", "source", "granted_by", "created_at"]
    readonly_fields = ["source", "granted_by", "created_at"]
    list_select_related = ["user", "role", "team", "granted_by"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = services.role_assign(
            actor=request.user, user=obj.user, role=obj.role.name, team=obj.team, note=obj.note
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.role_revoke(actor=request.user, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.role_revoke(actor=request.user, assignment=assignment)


# The admin's sign-in page honours the failed-login throttle and explains directory outages.
admin.site.login_form = StewardAdminAuthenticationForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Everyone's API tokens, for administrators: who holds which, what it may do, when it was
    last used. Tokens are created by their owners only, the hash is never shown, and a token is
    revoked (kept for the record), never deleted."""

    list_display = [
        "name",
        "user",
        "prefix",
        "scope_list",
        "active",
        "expires_at",
        "last_used_at",
        "last_used_ip",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at", "created_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = [
        "user",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_ip",
    ]
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description="Scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(description="Active", boolean=True)
    def active(self, token: ApiToken) -> bool:
        return token.is_active

    def has_module_permission(self, request):
        return services.is_administrator(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_administrator(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request, queryset):
        revoked = 0
        for token in queryset.select_related("user"):
            if token.revoked_at is None:
                services.token_revoke(actor=request.user, token=token)
                revoked += 1
        self.message_user(request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.")


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    """The login audit, read-only, for administrators and auditors."""

    list_display = ["created_at", "username", "user", "method", "outcome", "ip_address", "detail"]
    list_filter = ["outcome", "method", "created_at"]
    search_fields = ["username", "ip_address", "user_agent", "detail", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def has_module_permission(self, request):
        return may(request.user, Verb.READ_AUDIT)

    def has_view_permission(self, request, obj=None):
        return may(request.user, Verb.READ_AUDIT)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    """Links between accounts and single sign-on identities. Adding one is how an administrator
    lets the person a provider knows by a subject sign in as an existing (say, local) account;
    the single sign-on never links by name. Links are added and removed through the services
    (administrators only, audited), never edited."""

    list_display = ["user", "provider", "subject", "created_at"]
    list_filter = ["provider"]
    search_fields = ["user__username", "subject"]
    autocomplete_fields = ["user"]
    fields = ["user", "provider", "subject"]

    def has_module_permission(self, request):
        return is_administrator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_add_permission(self, request):
        return is_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        linked = external_identity_link(
            actor=request.user, user=obj.user, provider=obj.provider, subject=obj.subject
        )
        obj.pk = linked.pk

    def delete_model(self, request, obj):
        external_identity_unlink(actor=request.user, identity=obj)

    def delete_queryset(self, request, queryset):
        for identity in queryset.select_related("user"):
            external_identity_unlink(actor=request.user, identity=identity)
