"""Dashboard benchmark (``make bench``): the finance home and the showback pages rendered at the cube a
small and a large organisation's usage would produce (default 10,000 and 10,000,000 usage events).

The dashboards read the cube (``DailyUsage``, ``DailyDetailUsage``) and its monthly rollups, never the
requests, so the benchmark does not ingest events: it writes the cube cells that ``--rows`` events would
produce straight into the four cube tables, by set-based SQL. How many cells that is follows from the
benchmark's usage model, the one ``apps.usage.synthetic`` generates events from (12 teams, 41 features,
4 environments, 4 models, 7 % batch tier outside google, 1.5 % retries, 2 % of requests without a team or
a feature tag, 500 customers): each combination (a cube cell's key) has a probability ``p`` per event, so
with ``n`` events a day it is present on a day with probability ``1 − (1 − p)^n`` and holds on average
``n·p / (1 − (1 − p)^n)`` requests when present. The generator draws each cell of each day with that
probability (PostgreSQL's ``random()``, seeded) and gives it those requests, and the report prints the
expected and the generated cell counts per scale. A request's measures (tokens, cost per cost source)
are the mean per request of the demo's own priced usage for that model and tier, so amounts are what the
price book gives.

Runs in a scratch database created like the test runner's, on PostgreSQL on this machine only: the demo
(``seed_demo``: users for every role, cost centres, taxonomy, periods, statements) is built once; then for
each scale acme's cube is replaced, analysed, and each page rendered once to warm up and ``--repeat``
times (the median is printed, with the query count of one render). Prints JSON; asserts nothing.
"""

import io
import json
import logging
import statistics
import time
from datetime import date, timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings, setup_databases, teardown_databases
from django.urls import reverse

from apps.portal.management.commands.bench_pages import LOOPBACK, SLUG
from apps.portal.management.commands.bench_pages import Command as PagesBenchmark
from apps.tenancy.scoping import organization_scope

SCALES = (10_000, 10_000_000)
USAGE_START = date(2025, 11, 1)
USAGE_DAYS = 392  # 2025-11-01 to 2026-11-27: 13 months
MS_TARGET = 300
RATIO_TARGET = 1.5
SEED = 0.42  # PostgreSQL setseed(): the same cells every run
TAG_VARIANTS = (("full", 0.98), ("no_team", 0.01), ("no_feature", 0.01))
RETRY_SHARE = 0.015
BATCH_SHARE = 0.07
CUSTOMERS = 500


def cell_catalogue() -> list[dict]:
    """Every cube cell key the usage model can produce, with its probability per event (summing to 1)."""
    from apps.usage.synthetic import ENVIRONMENTS, FEATURES_BY_TEAM, MODELS, TEAMS

    team_weights = [3, 2, 3, 3, 1, 1, 1, 1, 0.5, 0.5, 2, 0.5]  # as apps.usage.synthetic
    team_total = sum(team_weights)
    env_total = sum(weight for _env, weight in ENVIRONMENTS)
    model_total = sum(model[2] for model in MODELS)
    cells: dict[tuple, float] = {}
    for team, team_weight in zip(TEAMS, team_weights, strict=True):
        for feature in FEATURES_BY_TEAM[team]:
            p_tf = team_weight / team_total / len(FEATURES_BY_TEAM[team])
            for environment, env_weight in ENVIRONMENTS:
                p_tfe = p_tf * env_weight / env_total
                for provider, model, share, _in, _out in MODELS:
                    p_m = p_tfe * share / model_total
                    batch = 0.0 if provider == "google" else BATCH_SHARE
                    for tier, p_tier in (("standard", 1 - batch), ("batch", batch)):
                        for retry, p_retry in ((False, 1 - RETRY_SHARE), (True, RETRY_SHARE)):
                            for variant, p_variant in TAG_VARIANTS:
                                p = p_m * p_tier * p_retry * p_variant
                                if not p:
                                    continue
                                tags = {
                                    "team": team,
                                    "feature": feature,
                                    "workspace": f"acme-{environment[:4]}",
                                    "environment": environment,
                                }
                                if variant != "full":
                                    del tags[variant.removeprefix("no_")]
                                key = (provider, model, tier, retry, tuple(sorted(tags.items())))
                                cells[key] = cells.get(key, 0.0) + p
    return [
        {"provider": provider, "model": model, "tier": tier, "retry": retry, "tags": dict(tags), "p": p}
        for (provider, model, tier, retry, tags), p in sorted(cells.items())
    ]


def detail_catalogue() -> list[dict]:
    """(customer, team) cells of the detail totals, with their probability per event: customers are uniform
    and independent of the team; "" is a request without a team tag."""
    from apps.usage.synthetic import TEAMS

    team_weights = [3, 2, 3, 3, 1, 1, 1, 1, 0.5, 0.5, 2, 0.5]
    team_total = sum(team_weights)
    no_team = dict(TAG_VARIANTS)["no_team"]
    teams = [(team, weight / team_total * (1 - no_team)) for team, weight in zip(TEAMS, team_weights, strict=True)]
    teams.append(("", no_team))
    return [
        {"customer": f"cust_{index:03d}", "team": team, "p": p_team / CUSTOMERS}
        for index in range(CUSTOMERS)
        for team, p_team in teams
    ]


def expected_cells(catalogue: list[dict], events_per_day: float, days: int) -> int:
    return round(days * sum(1 - (1 - cell["p"]) ** events_per_day for cell in catalogue))


class Command(BaseCommand):
    help = (
        "Benchmark the finance home and the showback pages at the cube 10K and 10M usage events produce, on "
        "PostgreSQL (prints JSON: median ms and queries per page and scale, and the ratio of the scales)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scales",
            default=",".join(str(scale) for scale in SCALES),
            help="Usage events per scale, smallest first (default 10000,10000000).",
        )
        parser.add_argument("--repeat", type=int, default=7, help="Timed renders per page; the median is kept.")
        parser.add_argument("--output", help="Also write the JSON to this file.")

    def handle(self, *args, scales: str, repeat: int, output: str | None, **_):
        try:
            sizes = [int(part) for part in scales.split(",") if part.strip()]
        except ValueError as exc:
            raise CommandError("--scales is a comma-separated list of event counts, e.g. 10000,10000000.") from exc
        if not sizes or repeat < 1 or any(size < 1 for size in sizes):
            raise CommandError("Give at least one positive scale and --repeat of at least 1.")
        if connection.vendor != "postgresql":
            raise CommandError("The dashboard benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
        host = settings.DATABASES["default"].get("HOST") or ""
        if host not in LOOPBACK:
            raise CommandError(
                f"The dashboard benchmark writes millions of rows: it runs on this machine only, not {host!r}."
            )
        settings.DEBUG = False
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        logging.getLogger("django.request").setLevel(logging.ERROR)
        old_config = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=())
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                organization = self._demo()
                clients = PagesBenchmark(stdout=self.stdout, stderr=self.stderr)._clients(organization)
                results = {}
                for size in sizes:
                    cells = self._generate(organization, size)
                    results[size] = {"cells": cells, "pages": self._measure(organization, clients, repeat)}
        finally:
            teardown_databases(old_config, verbosity=0, keepdb=False)
        report = self._report(sizes, repeat, results)
        text = json.dumps(report, indent=2)
        if output:
            with open(output, "w") as handle:
                handle.write(text + "\n")
        self.stdout.write(text)

    def _demo(self):
        from apps.tenancy.models import Organization

        started = time.perf_counter()
        with override_settings(DEMO_USAGE_REQUESTS={SLUG: 4_000, "globex": 800}):
            call_command("seed_demo", stdout=io.StringIO())
        self.stderr.write(f"built the demo in {time.perf_counter() - started:,.0f}s")
        return Organization.objects.get(slug=SLUG)

    # --- the cube at a scale ----------------------------------------------------------------------------

    def _generate(self, organization, events: int) -> dict:
        """Replace acme's cube by the cells ``events`` usage events produce; returns the cell counts."""
        from apps.taxonomy.models import TagSet
        from apps.taxonomy.normalise import tagset_hash
        from apps.usage.models import (
            CUBE_SUM_FIELDS,
            DailyDetailUsage,
            DailyUsage,
            MonthlyDetailUsage,
            MonthlyUsage,
        )

        started = time.perf_counter()
        per_day = events / USAGE_DAYS
        catalogue = cell_catalogue()
        detail = detail_catalogue()
        org_id = organization.pk
        with organization_scope(organization), transaction.atomic():
            measures = self._measures_per_request(organization)
            for model in (MonthlyDetailUsage, DailyDetailUsage, MonthlyUsage, DailyUsage):
                model.objects.filter(organization=organization).delete()
            tagsets = {}
            for cell in catalogue:
                key = tagset_hash(cell["tags"])
                if key not in tagsets:
                    tagsets[key] = TagSet.objects.get_or_create(
                        organization=organization, hash=key, defaults={"tags": cell["tags"]}
                    )[0].pk
            sums = ", ".join(CUBE_SUM_FIELDS)
            with connection.cursor() as cursor:
                cursor.execute("SELECT setseed(%s)", [SEED])
                cursor.execute(
                    "CREATE TEMP TABLE bench_cells (provider text, model text, tier text, retry boolean, "
                    "tagset_id bigint, p double precision) ON COMMIT DROP"
                )
                cursor.executemany(
                    "INSERT INTO bench_cells VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (c["provider"], c["model"], c["tier"], c["retry"], tagsets[tagset_hash(c["tags"])], c["p"])
                        for c in catalogue
                    ],
                )
                cursor.execute(
                    "CREATE TEMP TABLE bench_measures (model text, tier text, "
                    + ", ".join(f"{name} double precision" for name in CUBE_SUM_FIELDS)
                    + ") ON COMMIT DROP"
                )
                cursor.executemany(
                    f"INSERT INTO bench_measures VALUES ({', '.join(['%s'] * (2 + len(CUBE_SUM_FIELDS)))})",  # noqa: S608 - column count
                    [(model, tier, *values) for (model, tier), values in measures.items()],
                )
                # One row per day and cell present that day, with the requests it holds on average when present.
                per_request = ", ".join(
                    "g.requests" if name in ("records", "requests") else f"round(g.requests * m.{name})::bigint"
                    for name in CUBE_SUM_FIELDS
                )
                cursor.execute(
                    f"""
                    INSERT INTO usage_dailyusage (organization_id, day, provider, model, service_tier, tagset_id,
                                                  is_retry, is_batch, currency, {sums})
                    SELECT %(org)s, g.day, g.provider, g.model, g.tier, g.tagset_id, g.retry, false, 'USD',
                           {per_request}
                    FROM (
                        SELECT d::date AS day, c.provider, c.model, c.tier, c.tagset_id, c.retry,
                               greatest(1, round(%(n)s * c.p / (1 - power(1 - c.p, %(n)s))))::bigint AS requests,
                               1 - power(1 - c.p, %(n)s) AS q
                        FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
                        CROSS JOIN bench_cells AS c
                    ) AS g
                    JOIN bench_measures AS m ON m.model = g.model AND m.tier = g.tier
                    WHERE random() < g.q
                    """,  # noqa: S608 - column names from the model
                    {
                        "org": org_id,
                        "n": per_day,
                        "start": USAGE_START,
                        "end": USAGE_START + timedelta(days=USAGE_DAYS - 1),
                    },
                )
                # The detail totals: a customer × team cell present that day, with the mean measures of a request.
                cursor.execute(
                    "CREATE TEMP TABLE bench_detail (customer text, team text, p double precision) ON COMMIT DROP"
                )
                cursor.executemany(
                    "INSERT INTO bench_detail VALUES (%s, %s, %s)", [(c["customer"], c["team"], c["p"]) for c in detail]
                )
                mean = ", ".join(
                    "g.requests" if name in ("records", "requests") else f"round(g.requests * a.{name})::bigint"
                    for name in CUBE_SUM_FIELDS
                )
                averages = ", ".join(
                    f"sum({name}) / nullif(sum(requests), 0) AS {name}"
                    for name in CUBE_SUM_FIELDS
                    if name not in ("records", "requests")
                )
                cursor.execute(
                    f"""
                    INSERT INTO usage_dailydetailusage (organization_id, day, dimension, value, team, currency, {sums})
                    SELECT %(org)s, g.day, 'customer', g.customer, g.team, 'USD', {mean}
                    FROM (
                        SELECT d::date AS day, c.customer, c.team,
                               greatest(1, round(%(n)s * c.p / (1 - power(1 - c.p, %(n)s))))::bigint AS requests,
                               1 - power(1 - c.p, %(n)s) AS q
                        FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
                        CROSS JOIN bench_detail AS c
                    ) AS g
                    CROSS JOIN (
                        SELECT {averages} FROM usage_dailyusage WHERE organization_id = %(org)s
                    ) AS a
                    WHERE random() < g.q
                    """,  # noqa: S608 - column names from the model
                    {
                        "org": org_id,
                        "n": per_day,
                        "start": USAGE_START,
                        "end": USAGE_START + timedelta(days=USAGE_DAYS - 1),
                    },
                )
                # The monthly rollups: the daily cells summed by calendar month, as apps.usage.rollups keeps them.
                totals = ", ".join(f"sum({name})" for name in CUBE_SUM_FIELDS)
                cursor.execute(
                    f"""
                    INSERT INTO usage_monthlyusage (organization_id, month, provider, model, service_tier, tagset_id,
                                                    is_retry, is_batch, currency, {sums})
                    SELECT organization_id, date_trunc('month', day)::date, provider, model, service_tier, tagset_id,
                           is_retry, is_batch, currency, {totals}
                    FROM usage_dailyusage WHERE organization_id = %(org)s
                    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
                    """,  # noqa: S608 - column names from the model
                    {"org": org_id},
                )
                cursor.execute(
                    f"""
                    INSERT INTO usage_monthlydetailusage (organization_id, month, dimension, value, team, currency,
                                                          {sums})
                    SELECT organization_id, date_trunc('month', day)::date, dimension, value, team, currency, {totals}
                    FROM usage_dailydetailusage WHERE organization_id = %(org)s
                    GROUP BY 1, 2, 3, 4, 5, 6
                    """,  # noqa: S608 - column names from the model
                    {"org": org_id},
                )
            counts = {
                "daily": DailyUsage.objects.filter(organization=organization).count(),
                "monthly": MonthlyUsage.objects.filter(organization=organization).count(),
                "daily_detail": DailyDetailUsage.objects.filter(organization=organization).count(),
                "monthly_detail": MonthlyDetailUsage.objects.filter(organization=organization).count(),
            }
        with connection.cursor() as cursor:
            for table in ("dailyusage", "monthlyusage", "dailydetailusage", "monthlydetailusage"):
                cursor.execute(f"VACUUM ANALYZE usage_{table}")
        cells = {
            "events": events,
            "events_per_day": round(per_day, 1),
            "cell_keys": len(catalogue),
            "detail_keys": len(detail),
            "expected_daily": expected_cells(catalogue, per_day, USAGE_DAYS),
            "expected_daily_detail": expected_cells(detail, per_day, USAGE_DAYS),
            **counts,
            "seconds": round(time.perf_counter() - started, 1),
        }
        self.stderr.write(f"cube for {events:,} events: {json.dumps(cells)}")
        return cells

    def _measures_per_request(self, organization) -> dict[tuple[str, str], list[float]]:
        """The mean of every cube measure per request, per (model, tier), from the demo's priced usage; a
        model or tier the demo did not price gets its model's standard figures (or the overall mean)."""
        from django.db.models import Sum

        from apps.usage.models import CUBE_SUM_FIELDS, DailyUsage
        from apps.usage.synthetic import MODELS

        rows = (
            DailyUsage.objects.filter(organization=organization)
            .values("model", "service_tier")
            .annotate(**{name: Sum(name) for name in CUBE_SUM_FIELDS})
            .order_by()
        )
        found = {}
        overall = dict.fromkeys(CUBE_SUM_FIELDS, 0)
        for row in rows:
            found[(row["model"], row["service_tier"])] = row
            for name in CUBE_SUM_FIELDS:
                overall[name] += row[name] or 0
        if not overall["requests"]:
            raise CommandError("The demo has no priced usage for acme to take the measures of a request from.")

        def per_request(row) -> list[float]:
            return [(row[name] or 0) / row["requests"] for name in CUBE_SUM_FIELDS]

        measures = {}
        for _provider, model, *_rest in MODELS:
            for tier in ("standard", "batch"):
                row = found.get((model, tier)) or found.get((model, "standard")) or overall
                measures[(model, tier)] = per_request(row if row["requests"] else overall)
        return measures

    # --- the clocks ---------------------------------------------------------------------------------------

    def _targets(self, organization) -> list[tuple[str, str, str]]:
        slug = {"org_slug": organization.slug}
        home = reverse("portal:home", kwargs=slug)
        dashboard = reverse("showback:dashboard", kwargs=slug)
        trends = reverse("showback:trends", kwargs=slug)
        return [
            ("finance_admin portal:home", "finance_admin", home),
            ("finance_admin showback:dashboard", "finance_admin", dashboard),
            ("finance_admin showback:dashboard 13 months", "finance_admin", f"{dashboard}?range=last_13&grain=month"),
            ("finance_admin showback:dashboard by customer", "finance_admin", f"{dashboard}?by=customer"),
            ("finance_admin showback:trends", "finance_admin", trends),
            ("budget_owner portal:home", "budget_owner", home),
            ("budget_owner showback:dashboard", "budget_owner", dashboard),
        ]

    def _measure(self, organization, clients, repeat: int) -> dict:
        pages = {}
        for key, role, url in self._targets(organization):
            client = clients[role]
            response = client.get(url)  # warm-up
            status = response.status_code
            queries = []

            def timed(execute, sql, params, many, context, queries=queries):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    queries.append(((time.perf_counter() - started) * 1000, sql))

            # Counted and timed by a wrapper round every execute: the test client's request_started signal
            # resets Django's own query log mid-request.
            with connection.execute_wrapper(timed):
                client.get(url)
            timings = []
            for _ in range(repeat if status == 200 else 0):
                started = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            pages[key] = {
                "url": url,
                "status": status,
                "queries": len(queries),
                "slowest_queries": [
                    {"ms": round(ms, 1), "sql": sql[:300]} for ms, sql in sorted(queries, reverse=True)[:3]
                ],
                "median_ms": round(statistics.median(timings), 1) if timings else None,
            }
            self.stderr.write(f"{key:<50} {status} {pages[key]['median_ms']} ms {pages[key]['queries']} queries")
        return pages

    def _report(self, sizes: list[int], repeat: int, results: dict) -> dict:
        small, large = sizes[0], sizes[-1]
        pages = {}
        for key in results[small]["pages"]:
            row = {"url": results[small]["pages"][key]["url"]}
            for size in sizes:
                page = results[size]["pages"][key]
                row[str(size)] = {key: page[key] for key in ("status", "median_ms", "queries", "slowest_queries")}
            low, high = results[small]["pages"][key]["median_ms"], results[large]["pages"][key]["median_ms"]
            row["ratio"] = round(high / low, 2) if low and high else None
            row["target_met"] = bool(high is not None and high < MS_TARGET and (row["ratio"] or 0) <= RATIO_TARGET)
            pages[key] = row
        return {
            "scales": sizes,
            "repeat": repeat,
            "cube": {str(size): results[size]["cells"] for size in sizes},
            "pages": pages,
            "target": {"ms": MS_TARGET, "ratio": RATIO_TARGET},
            "all_targets_met": all(row["target_met"] for row in pages.values()),
        }
