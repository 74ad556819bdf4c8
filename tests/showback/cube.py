"""Plant known spend in the cube: one DailyUsage cell per (day, team, model) with a known estimate, then the
monthly rollups once (as a bulk load would)."""

import datetime

from django_scopes import scope

from apps.taxonomy.models import TagSet
from apps.taxonomy.normalise import tagset_hash
from apps.usage.models import DailyUsage
from apps.usage.rollups import rollups_rebuild

G = 1_000_000_000


def tagset(organization, tags: dict) -> TagSet:
    with scope(organization=organization):
        found, _ = TagSet.objects.get_or_create(
            organization=organization, hash=tagset_hash(tags), defaults={"tags": tags}
        )
    return found


def plant(organization, cells: dict[tuple[datetime.date, str | None, str], int]) -> None:
    """``cells``: (day, team or None, model) → estimated nano."""
    with scope(organization=organization):
        rows = [
            DailyUsage(
                organization=organization,
                day=day,
                provider="openai",
                model=model,
                service_tier="standard",
                tagset=tagset(organization, {"team": team} if team else {}),
                records=1,
                requests=1,
                cost_input_nano=amount,
                estimated_nano=amount,
            )
            for (day, team, model), amount in cells.items()
        ]
        DailyUsage.objects.bulk_create(rows)
        rollups_rebuild(organization=organization)
