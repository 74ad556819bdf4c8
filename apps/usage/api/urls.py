from rest_framework.routers import SimpleRouter

from .views import UsageJobViewSet

router = SimpleRouter()
router.register("usage", UsageJobViewSet, basename="usage-job")
urlpatterns = router.urls
