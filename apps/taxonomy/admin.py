from django.contrib import admin

from apps.audit.admin_kit import ReadOnlyTenantAdmin, TenantAdmin

from .models import TagAlias, TagDimension, TagSet, TagValue


@admin.register(TagDimension)
class TagDimensionAdmin(TenantAdmin):
    list_display = ["key", "label", "organization", "required", "case_rule", "is_active", "position"]
    list_filter = ["organization", "required", "is_active"]
    search_fields = ["key", "label"]


@admin.register(TagValue)
class TagValueAdmin(TenantAdmin):
    list_display = ["value", "dimension", "owner", "is_active", "organization"]
    list_filter = ["organization", "is_active"]
    list_select_related = ["organization", "dimension", "owner"]
    search_fields = ["value", "dimension__key", "owner__code"]


@admin.register(TagAlias)
class TagAliasAdmin(TenantAdmin):
    list_display = ["alias", "dimension", "value", "organization"]
    list_filter = ["organization"]
    list_select_related = ["organization", "dimension", "value"]
    search_fields = ["alias", "value__value"]


@admin.register(TagSet)
class TagSetAdmin(ReadOnlyTenantAdmin):
    """Tag sets are written by ingestion only; usage rows point at them, so they are never edited."""

    list_display = ["hash", "tags", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["hash"]
