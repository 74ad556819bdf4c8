from django.contrib import admin
from django.urls import include, path

from apps.portal.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.owners.urls")),
    path("", include("apps.taxonomy.urls")),
    path("", include("apps.pricing.urls")),
    path("", include("apps.usage.urls")),
    path("", include("apps.invoices.urls")),
    path("", include("apps.reconciliation.urls")),
    path("o/<slug:org_slug>/", include("apps.allocation.rules.urls")),
    path("o/<slug:org_slug>/", include("apps.allocation.runs.urls")),
    path("", include("apps.statements.urls")),
    path("", include("apps.disputes.urls")),
    path("", include("apps.periods.urls")),
    path("", include("apps.portal.urls")),
]

admin.site.site_header = "AI chargeback portal: administration"
admin.site.site_title = "Chargeback admin"
