from django.urls import path

from . import views

app_name = "portal"

# Outside any organisation: the organisation switcher.
site_urlpatterns = [path("", views.switcher, name="switcher")]

# An organisation's home page, /o/<org_slug>/ itself (see config/urls.py).
urlpatterns = [path("", views.home, name="home")]
