"""What an API token may do. A token carries a subset of these; views name the one they need."""

from django.db import models


class TokenScope(models.TextChoices):
    ORG_READ = "org:read", "Read organisation settings"
    AUDIT_READ = "audit:read", "Read the audit trail"
    CATALOG_READ = "catalog:read", "Read taxonomy, cost centres and prices"
    CATALOG_WRITE = "catalog:write", "Change taxonomy, cost centres and prices"
    USAGE_WRITE = "usage:write", "Upload usage events"
    USAGE_READ = "usage:read", "Read usage"
    INVOICES_WRITE = "invoices:write", "Upload invoices and cost reports"
    PERIODS_READ = "periods:read", "Read periods, reconciliation and allocation"
    PERIODS_WRITE = "periods:write", "Move periods through their workflow (as the member who created the token)"
    STATEMENTS_READ = "statements:read", "Read statements and journal entries"
