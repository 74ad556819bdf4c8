"""Demo tag taxonomy for "acme" and "globex": the five dimensions the seed note says every request
carries (team, feature, workspace, environment, provider; all required) and an optional customer.

Team values belong to the demo cost centres (apps/owners/demo.py), features to their team's cost
centre. A cost centre that does not exist is simply not linked. Everything goes through the catalog
import, so it is validated, audited and idempotent (a second run finds every row unchanged).
"""

from django.db import transaction

from apps.owners.models import BudgetOwner
from apps.tenancy.models import Organization
from apps.tenancy.scoping import organization_scope

from . import catalog_io
from .normalise import lookup_form

# team value -> cost-centre code, as in apps/owners/demo.py (a test keeps the two in step)
TEAM_COST_CENTRES = {
    "search": "CC-1101",
    "recommendations": "CC-1102",
    "support": "CC-1201",
    "assistant": "CC-1202",
    "data-platform": "CC-1301",
    "ml-research": "CC-1302",
    "marketing": "CC-2101",
    "sales-eng": "CC-2102",
    "legal-ops": "CC-2103",
    "finance-ops": "CC-2104",
    "platform": "CC-9001",
    "observability": "CC-9002",
}

FEATURES_BY_TEAM = {
    "search": ["answer-summaries", "query-rewrite", "semantic-search", "search-snippets"],
    "recommendations": ["product-recs", "similar-items", "personalised-feed", "recs-explanations"],
    "support": ["ticket-triage", "reply-drafts", "support-summaries", "sentiment-tagging"],
    "assistant": ["chat-assistant", "voice-assistant", "agent-handoff", "tool-router"],
    "data-platform": ["data-extraction", "pii-redaction", "schema-mapping", "doc-ocr"],
    "ml-research": ["eval-harness", "fine-tune-experiments", "synthetic-data", "red-teaming"],
    "marketing": ["product-descriptions", "campaign-copy", "seo-briefs", "image-alt-text"],
    "sales-eng": ["rfp-answers", "demo-scripts", "call-notes"],
    "legal-ops": ["contract-review", "clause-extraction", "policy-qa"],
    "finance-ops": ["invoice-coding", "expense-audit", "variance-commentary"],
    "platform": ["gateway-healthcheck", "prompt-cache-warmup"],
    "observability": ["trace-summaries", "anomaly-explainer"],
}

ENVIRONMENTS = {
    "production": ["prod", "Production", "prd"],
    "staging": ["stg", "Staging"],
    "development": ["dev", "Development"],
}

PROVIDERS = {
    "openai": ["OpenAI"],
    "anthropic": ["Anthropic"],
    "google": ["gemini", "vertex"],
    "aws-bedrock": ["bedrock", "amazon-bedrock"],
    "azure-openai": ["azure"],
}

# Hundreds of customers: kept per request and in per-value daily totals, not in the daily cube.
DETAIL_DIMENSIONS = {"customer"}

DIMENSIONS = [
    ("team", "Team", "The team that made the request; maps to its cost centre.", True, "lower"),
    ("feature", "Feature", "The product feature or workflow the request served.", True, "lower"),
    ("workspace", "Workspace", "The provider project, workspace or account the key belongs to.", True, "lower"),
    ("environment", "Environment", "Where the request ran.", True, "lower"),
    ("provider", "Provider", "Who served the request.", True, "lower"),
    ("customer", "Customer", "The end customer, for unit economics; free-form ids.", False, "preserve"),
]


def _aliases(value: str, spellings: list[str]) -> list[str]:
    # Values already match ignoring case and spacing, so "Production" needs no alias of production.
    return sorted({lookup_form(s) for s in spellings if lookup_form(s) != lookup_form(value)})


def taxonomy_rows(*, organization: Organization, owner_codes: set[str]) -> list[dict]:
    def owned(value: str, code: str) -> dict:
        row = {"value": value, "is_active": True}
        if code in owner_codes:
            row["owner"] = code
        return row

    values: dict[str, list[dict]] = {
        "team": [owned(team, code) for team, code in TEAM_COST_CENTRES.items()],
        "feature": [
            owned(feature, TEAM_COST_CENTRES[team])
            for team, features in FEATURES_BY_TEAM.items()
            for feature in features
        ],
        "workspace": [
            {"value": f"{organization.slug}-{stage}", "is_active": True} for stage in ("prod", "staging", "dev")
        ],
        "environment": [
            {"value": value, "is_active": True, "aliases": _aliases(value, spellings)}
            for value, spellings in ENVIRONMENTS.items()
        ],
        "provider": [
            {"value": value, "is_active": True, "aliases": _aliases(value, spellings)}
            for value, spellings in PROVIDERS.items()
        ],
        "customer": [],
    }
    return [
        {
            "key": key,
            "label": label,
            "description": description,
            "required": required,
            "case_rule": case_rule,
            "granularity": "detail" if key in DETAIL_DIMENSIONS else "cube",
            "position": 10 * (index + 1),
            "is_active": True,
            "values": values[key],
        }
        for index, (key, label, description, required, case_rule) in enumerate(DIMENSIONS)
    ]


@transaction.atomic
def seed_demo(*, organization: Organization, stdout) -> None:
    with organization_scope(organization):
        owner_codes = set(
            BudgetOwner.objects.filter(organization=organization, is_active=True).values_list("code", flat=True)
        )
    rows = taxonomy_rows(organization=organization, owner_codes=owner_codes)
    errors = catalog_io.validate_section(organization=organization, rows=rows, context={})
    if errors:
        raise RuntimeError(f"demo taxonomy for {organization.slug} is invalid: {errors}")
    counts = catalog_io.apply_section(organization=organization, rows=rows, actor=None)
    stdout.write(
        f"  {organization.slug}: tag dimensions and values {counts['created']} created, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged"
    )
