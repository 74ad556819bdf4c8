"""/api/v1/: every app's API routes, plus the OpenAPI schema."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from apps.core.api.errors import NotFoundView

app_name = "api"

urlpatterns = [
    path("", include("apps.tenancy.api.urls")),
    path("", include("apps.audit.api.urls")),
    path("", include("apps.jobs.api.urls")),
    path("", include("apps.owners.api.urls")),
    path("", include("apps.taxonomy.api.urls")),
    path("", include("apps.pricing.api.urls")),
    path("", include("apps.fx.api.urls")),
    path("", include("apps.usage.api.urls")),
    path("", include("apps.invoices.api.urls")),
    path("", include("apps.connectors.api.urls")),
    path("", include("apps.reconciliation.api.urls")),
    path("", include("apps.allocation.api.urls")),
    path("", include("apps.statements.api.urls")),
    path("", include("apps.disputes.api.urls")),
    path("", include("apps.journals.api.urls")),
    path("", include("apps.periods.api.urls")),
    path("", include("apps.webhooks.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Last: a path no route matches answers the API's JSON 404, not the portal's HTML page.
    re_path(r"^.*$", NotFoundView.as_view(), name="not-found"),
]
