from rest_framework.routers import SimpleRouter

from .views import ConnectionViewSet

router = SimpleRouter()
router.register("connectors", ConnectionViewSet, basename="connector")
urlpatterns = router.urls
