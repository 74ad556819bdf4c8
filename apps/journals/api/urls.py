"""/api/v1/journal-entries/…: the export route first, so that "export" is never read as an entry's id by the
router's detail route; then the router's routes (the entries' list, detail and acknowledgement)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .export import JournalEntryExportView
from .views import JournalEntryViewSet

router = SimpleRouter()
router.register("journal-entries", JournalEntryViewSet, basename="journal-entry")

urlpatterns = [
    path("journal-entries/export/", JournalEntryExportView.as_view(), name="journal-entry-export"),
    *router.urls,
]
