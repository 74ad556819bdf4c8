from django.urls import path

from apps.core import converters  # noqa: F401 - registers <billing_month:...>

from . import downloads, views

app_name = "journals"

urlpatterns = [
    path("periods/<billing_month:period>/journal/", views.period_journal, name="period"),
    path("periods/<billing_month:period>/journal/download/", downloads.journal_download, name="download"),
    path("settings/recovery-accounts/", views.recovery_accounts, name="recovery_accounts"),
    path("settings/recovery-accounts/<int:pk>/", views.recovery_account_edit, name="recovery_account_edit"),
    path("settings/recovery-accounts/<int:pk>/delete/", views.recovery_account_delete, name="recovery_account_delete"),
]
