from rest_framework.routers import SimpleRouter

from .views import PriceOverrideViewSet, PriceRowViewSet

router = SimpleRouter()
router.register("price-rows", PriceRowViewSet, basename="price-row")
router.register("price-overrides", PriceOverrideViewSet, basename="price-override")
urlpatterns = router.urls
