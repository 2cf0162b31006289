"""Admin helpers shared by the apps."""

from __future__ import annotations

from django.contrib import admin

from core.models import AuditEvent, TaskRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that shows records but never writes them: provenance is registered through
    the API and services, and is immutable afterwards."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The hash-chained audit events, for reading; the chain is verified by
    ``manage.py verify_audit_chain`` and on the auditor's trail page."""

    list_display = [
        "sequence",
        "created_at",
        "actor_username",
        "action",
        "subject_type",
        "subject_label",
        "scope_version",
        "remote_addr",
    ]
    list_filter = ["action"]
    search_fields = ["actor_username", "action", "scope_model", "scope_version", "subject_label"]
    date_hierarchy = "created_at"
    ordering = ["-sequence"]
    fields = [
        "sequence",
        "created_at",
        "actor",
        "actor_username",
        "action",
        "subject_type",
        "subject_id",
        "subject_label",
        "scope_model",
        "scope_version",
        "data",
        "remote_addr",
        "request_id",
        "prev_hash",
        "hash",
        "signature",
    ]
    readonly_fields = fields


@admin.register(TaskRequest)
class TaskRequestAdmin(ReadOnlyAdmin):
    """Background work requested through the outbox: what is still queued (the broker was
    unreachable), what a worker finished or failed. ``manage.py relay_outbox`` sends the
    queued ones."""

    list_display = ("task", "state", "created_at", "sent_at", "finished_at", "publish_attempts")
    list_filter = ("state", "task")
    readonly_fields = (
        "id",
        "task",
        "args",
        "state",
        "publish_attempts",
        "last_error",
        "created_at",
        "sent_at",
        "finished_at",
    )
    date_hierarchy = "created_at"
