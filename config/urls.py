from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and Redoc style their elements inline at run time: a looser policy for them only.
    path(
        "api/docs/",
        csp_replace(settings.API_DOCS_CSP)(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_replace(settings.API_DOCS_CSP)(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path("api/v1/", include("config.api_urls")),
    path("api-auth/", include("rest_framework.urls", namespace="rest_framework")),
    # Protocols other tools speak, at the paths their clients expect (/api/v1/lineage, ...).
    path("", include("integrations.urls")),
    path("", include("accounts.urls")),
    path("", include("registry.urls")),
    path("", include("governance.urls")),
    path("", include("monitoring.urls")),
]

# Unmatched /api/ paths answer JSON like the rest of the API (pages keep the HTML 404).
handler404 = "core.api.exceptions.page_not_found"
# An unreachable database is a 503 even where the middleware cannot catch it; other errors 500.
handler500 = "core.database_errors.server_error"
