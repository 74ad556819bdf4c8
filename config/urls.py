"""The portal's URLs.

Every page of one organisation is under ``/o/<org_slug>/``, and the prefix is written here once: an app's
``urlpatterns`` list its organisation pages relative to it, and the scoping middleware
(``apps.tenancy.middleware``) reads ``org_slug`` from the resolved URL. Accounts and the portal also have
pages outside any organisation (sign-in, the organisation switcher): their ``site_urlpatterns``, mounted at
the root under the same namespace, so that each app keeps one namespace ("accounts:login" and
"accounts:members" alike).
"""

from importlib import import_module

from django.contrib import admin
from django.urls import include, path

from apps.core.observability.health import HealthView
from apps.core.observability.metrics import metrics_view
from apps.portal.views import healthz

ORGANIZATION = "o/<slug:org_slug>/"


def app_urls(module: str):
    """One app's pages in its namespace: those outside any organisation, then its organisation's pages."""
    urls = import_module(module)
    patterns = [*getattr(urls, "site_urlpatterns", []), path(ORGANIZATION, include(urls.urlpatterns))]
    return include((patterns, urls.app_name))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("health/", HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("", app_urls("apps.accounts.urls")),
    path("", app_urls("apps.audit.urls")),
    path("", app_urls("apps.jobs.urls")),
    path("", app_urls("apps.owners.urls")),
    path("", app_urls("apps.taxonomy.urls")),
    path("", app_urls("apps.pricing.urls")),
    path("", app_urls("apps.fx.urls")),
    path("", app_urls("apps.webhooks.urls")),
    path("", app_urls("apps.usage.urls")),
    path("", app_urls("apps.invoices.urls")),
    path("", app_urls("apps.connectors.urls")),
    path("", app_urls("apps.reconciliation.urls")),
    path("", app_urls("apps.allocation.rules.urls")),
    path("", app_urls("apps.allocation.runs.urls")),
    path("", app_urls("apps.statements.urls")),
    path("", app_urls("apps.disputes.urls")),
    path("", app_urls("apps.journals.urls")),
    path("", app_urls("apps.periods.urls")),
    path("", app_urls("apps.showback.urls")),
    path("", app_urls("apps.portal.urls")),
]

admin.site.site_header = "AI chargeback portal: administration"
admin.site.site_title = "Chargeback admin"
