"""What an audit event records of a tag dimension and of a tag value."""

from apps.audit.snapshots import model_snapshot

from .models import TagDimension, TagValue

# What a dimension update may change, and what its event records besides the key.
DIMENSION_FIELDS = ("label", "description", "required", "case_rule", "granularity", "is_active", "position")


def dimension_snapshot(dimension: TagDimension) -> dict:
    return model_snapshot(dimension, ("key", *DIMENSION_FIELDS))


def value_snapshot(tag_value: TagValue) -> dict:
    snapshot = model_snapshot(tag_value, ("value", "description", "is_active"))
    snapshot["dimension"] = tag_value.dimension.key
    snapshot["owner"] = tag_value.owner.code if tag_value.owner_id else None
    snapshot["aliases"] = sorted(tag_value.aliases.values_list("alias", flat=True)) if tag_value.pk else []
    return snapshot
