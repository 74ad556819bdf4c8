from rest_framework.routers import SimpleRouter

from .feed import EventFeedViewSet

router = SimpleRouter()
router.register("events", EventFeedViewSet, basename="event")
urlpatterns = router.urls
