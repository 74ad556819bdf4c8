from rest_framework.routers import SimpleRouter

from .views import DisputeViewSet

router = SimpleRouter()
router.register("disputes", DisputeViewSet, basename="dispute")
urlpatterns = router.urls
