"""Where OpenLineage clients send events: ``<url>/api/v1/lineage``, exactly (the client joins its
URL and endpoint with urljoin; a redirect to a slash would lose the POST)."""

from django.urls import path

from integrations.openlineage.api import OpenLineageEventView

urlpatterns = [
    path("api/v1/lineage", OpenLineageEventView.as_view(), name="openlineage-lineage"),
]
