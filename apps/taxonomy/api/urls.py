from rest_framework.routers import SimpleRouter

from .views import TagDimensionViewSet, TagSetViewSet, TagValueViewSet

router = SimpleRouter()
router.register("tag-dimensions", TagDimensionViewSet, basename="tag-dimension")
router.register("tag-values", TagValueViewSet, basename="tag-value")
router.register("tag-sets", TagSetViewSet, basename="tag-set")
urlpatterns = router.urls
