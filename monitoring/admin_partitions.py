"""The prediction log's partitions in the admin console: each one's range, estimated rows and
size on disk, and each deployment's retention and legal hold. Read-only: partitions are created
by the daily beat tick and dropped by retention (monitoring.partitions,
monitoring.services.retention); holds and retention are set through that service."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse

from monitoring.models import Deployment, PredictionPartition
from monitoring.partitions import is_partitioned, partition_list, partition_unit
from monitoring.services.retention import global_retention_days, retention_days


@admin.register(PredictionPartition)
class PredictionPartitionAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return (
            request.user.is_active
            and request.user.is_staff
            and (request.user.is_superuser or super().has_view_permission(request, obj))
        )

    def get_queryset(self, request):
        # The model has no table: the partitions come from the catalog (changelist_view).
        return self.model.objects.none()

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        partitions = partition_list()
        deployments = Deployment.objects.select_related("legal_hold_by").order_by("name")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Prediction log partitions",
            "partitioned": is_partitioned(),
            "unit": partition_unit(),
            "global_days": global_retention_days(),
            "partitions": [
                {
                    "name": p.name,
                    "start": p.start,
                    "end": p.end,
                    "rows": p.rows_estimate,
                    "size": filesizeformat(p.size_bytes),
                }
                for p in partitions
            ],
            "total_size": filesizeformat(sum(p.size_bytes for p in partitions)),
            "deployments": [{"deployment": d, "days": retention_days(d)} for d in deployments],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/monitoring/prediction_partitions.html", context)
