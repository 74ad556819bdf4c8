"""Cross-tenant cases for the Django admin that are not a tenant-owned model's (those come from ``tenant_model``)."""

from . import admin_site_route, unscoped_admin_model

_SUPERUSERS_ONLY = "no tenant data; only superusers may open it (staff org admins hold no Django model permission)"

unscoped_admin_model("auth.user", "every account of the platform: " + _SUPERUSERS_ONLY)
unscoped_admin_model("auth.group", _SUPERUSERS_ONLY)
unscoped_admin_model("axes.accessattempt", "sign-in throttling records: " + _SUPERUSERS_ONLY)
unscoped_admin_model("axes.accesslog", "sign-in throttling records: " + _SUPERUSERS_ONLY)
unscoped_admin_model("axes.accessfailurelog", "sign-in throttling records: " + _SUPERUSERS_ONLY)
unscoped_admin_model(
    "accounts.apikeyprefix", "the global index of API token prefixes (public parts only): " + _SUPERUSERS_ONLY
)
unscoped_admin_model("pricing.provider", "the shared public price catalogue: " + _SUPERUSERS_ONLY)
unscoped_admin_model("pricing.aimodel", "the shared public price catalogue: " + _SUPERUSERS_ONLY)
unscoped_admin_model("pricing.modelalias", "the shared public price catalogue: " + _SUPERUSERS_ONLY)
unscoped_admin_model("pricing.pricerow", "the shared public price catalogue: " + _SUPERUSERS_ONLY)
unscoped_admin_model(
    "otp_totp.totpdevice", "people's authenticator apps (a person's, not a tenant's): " + _SUPERUSERS_ONLY
)
unscoped_admin_model(
    "otp_static.staticdevice", "people's recovery codes (a person's, not a tenant's): " + _SUPERUSERS_ONLY
)
unscoped_admin_model("tenancy.organization", "the tenants themselves (settings are the portal's): " + _SUPERUSERS_ONLY)

admin_site_route("admin:index", "lists only the apps the user may open")
admin_site_route("admin:app_list", "lists only the models the user may open")
admin_site_route("admin:login", "public")
admin_site_route("admin:logout", "acts on the caller's own session")
admin_site_route("admin:password_change", "acts on the caller's own account")
admin_site_route("admin:password_change_done", "static confirmation")
admin_site_route("admin:jsi18n", "static translations")
admin_site_route("admin:autocomplete", "checked per field by test_admin_autocomplete_offers_only_own_rows")
admin_site_route("admin:view_on_site", "checked by test_admin_view_on_site_of_another_organisations_row_is_404")
admin_site_route("admin:otp_totp_totpdevice_config", "part of the authenticator admin: " + _SUPERUSERS_ONLY)
admin_site_route("admin:otp_totp_totpdevice_qrcode", "part of the authenticator admin: " + _SUPERUSERS_ONLY)
admin_site_route("admin:auth_user_password_change", "part of the user admin: " + _SUPERUSERS_ONLY)
