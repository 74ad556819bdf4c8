from rest_framework.routers import SimpleRouter

from .views import StatementViewSet

router = SimpleRouter()
router.register("statements", StatementViewSet, basename="statement")
urlpatterns = router.urls
