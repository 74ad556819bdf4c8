from rest_framework.routers import SimpleRouter

from .views import PeriodViewSet

router = SimpleRouter()
router.register("periods", PeriodViewSet, basename="period")

urlpatterns = router.urls
