from rest_framework.routers import SimpleRouter

from .views import InvoiceImportViewSet, InvoiceViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("invoice-imports", InvoiceImportViewSet, basename="invoice-import")
urlpatterns = router.urls
