"""What an audit event records of a cost centre."""

from apps.audit.snapshots import model_snapshot

from .models import BudgetOwner, BudgetThreshold
from .validation import ERP_FIELDS


def budget_owner_snapshot(owner: BudgetOwner) -> dict:
    snapshot = model_snapshot(owner, ("code", "name", *ERP_FIELDS, "is_active", "is_central"))
    snapshot["parent"] = owner.parent.code if owner.parent_id else None
    snapshot["owner_users"] = sorted(owner.owner_users.values_list("username", flat=True)) if owner.pk else []
    return snapshot


def budget_threshold_snapshot(threshold: BudgetThreshold) -> dict:
    snapshot = model_snapshot(threshold, ("pct", "basis", "is_active"))
    snapshot["owner"] = threshold.owner.code
    return snapshot
