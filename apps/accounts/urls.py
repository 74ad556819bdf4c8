from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views, views_mfa

app_name = "accounts"

# Outside any organisation: sign-in, the second factor, the password.
site_urlpatterns = [
    path("accounts/login/", views_mfa.LoginView.as_view(), name="login"),
    path("accounts/two-step/", views_mfa.setup, name="mfa_setup"),
    path("accounts/two-step/verify/", views_mfa.verify, name="mfa_verify"),
    path("accounts/two-step/recovery-codes/", views_mfa.recovery_codes, name="mfa_recovery_codes"),
    path("accounts/two-step/disable/", views_mfa.disable, name="mfa_disable"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
]

# An organisation's settings, members and API clients (under /o/<org_slug>/, see config/urls.py).
urlpatterns = [
    path("settings/", views.settings_edit, name="settings"),
    path("settings/mode/", views.mode_switch, name="mode_switch"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member_edit, name="member_edit"),
    path("api-clients/", views.api_clients, name="api_clients"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke, name="api_client_revoke"),
]
