from rest_framework.routers import SimpleRouter

from .endpoints import WebhookEndpointViewSet
from .feed import EventFeedViewSet

router = SimpleRouter()
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("events", EventFeedViewSet, basename="event")
urlpatterns = router.urls
