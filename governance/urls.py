"""Browser pages of governance: the review console and the auditor's trail."""

from django.urls import path

from governance import views, views_aliases, views_documents, views_trail

app_name = "governance"

VERSION = "models/<str:name>/versions/<int:version>/"

urlpatterns = [
    # The review console: the inbox, and the forms of the version page's review section.
    path("inbox/", views.inbox, name="inbox"),
    path(f"{VERSION}decide/", views.version_decide, name="version-decide"),
    path(f"{VERSION}annotations/", views.version_annotate, name="version-annotate"),
    path(
        f"{VERSION}annotations/<int:pk>/resolve/",
        views.version_annotation_resolve,
        name="version-annotation-resolve",
    ),
    # The alias form of the model page.
    path("models/<str:name>/aliases/", views_aliases.model_alias_move, name="model-alias-move"),
    # The documents section of the version page.
    path(
        f"{VERSION}documents/",
        views_documents.version_document_request,
        name="version-document-request",
    ),
    path(
        f"{VERSION}documents/free-text/",
        views_documents.version_free_text,
        name="version-free-text",
    ),
    path(
        f"{VERSION}documents/<int:pk>/<str:fmt>/",
        views_documents.version_document_download,
        name="version-document-download",
    ),
    # The auditor's trail.
    path("audit/", views_trail.audit_timeline, name="audit-trail"),
    path("audit/log/", views_trail.audit_trail, name="audit-log"),
    path("audit/export.csv", views_trail.audit_export_csv, name="audit-export-csv"),
    path("audit/export.json", views_trail.audit_export_json, name="audit-export-json"),
]
