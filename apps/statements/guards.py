"""Settings guards of the statements floor, registered through ``apps.tenancy.hooks`` in ``StatementsConfig.ready()``.

A statement is issued in the base currency of its allocation run; a final one never changes. Once one exists,
the base currency is fixed.
"""

from apps.owners.guards import fixed_base_currency_message
from apps.tenancy.scoping import tenant_scoped

from .models import Statement


@tenant_scoped
def statements_fix_base_currency(*, organization) -> str | None:
    count = Statement.objects.filter(organization=organization).count()
    noun = "statement" if count == 1 else "statements"
    return fixed_base_currency_message(organization=organization, count=count, noun=noun)
