from rest_framework.routers import SimpleRouter

from .views import BudgetOwnerViewSet, BudgetViewSet

router = SimpleRouter()
router.register("budget-owners", BudgetOwnerViewSet, basename="budget-owner")
router.register("budgets", BudgetViewSet, basename="budget")
urlpatterns = router.urls
