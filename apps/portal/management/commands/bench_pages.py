"""Page benchmark (``make bench``): every portal page and API list the finance admin and the budget owner
see, rendered through the Django test client against an organisation with ``--rows`` usage events.

Runs in a scratch database created like the test runner's (``test_<name>``), on PostgreSQL on this machine
only. The world is the demo (``seed_demo``: acme and globex, a user for every role, cost centres, taxonomy,
price book, invoices, allocation, periods, statements, disputes) with acme's usage raised to ``--rows``
events over 13 months (2025-11 to 2026-11), loaded by ``apps.usage.bulk_load`` (a template of
``--template-rows`` events through the real ingest, the rest repeated from it by set-based SQL, the cube and
its monthly rollups rebuilt from the rows) before the later months are reconciled, allocated and closed.
``--keep-db`` keeps the database and reuses it when acme already has ``--rows`` events.

The pages are found by walking the URL conf: every named GET route under ``/o/<org_slug>/`` that needs
nothing else, and every API list (``…-list`` routes without arguments), plus the request list at a deep
position (a cursor in the middle of its month) and filtered by one customer. Each is rendered once to warm
up, then ``--repeat`` times; the median is printed. With ``--baseline`` (an earlier run's JSON, e.g. at 10K
rows), each page also gets the ratio of its median to the baseline's. Prints JSON; asserts nothing.
"""

import io
import json
import logging
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings, setup_databases, teardown_databases
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.tenancy.scoping import organization_scope
from apps.usage.bulk_load import TEMPLATE_ROWS

SLUG = "acme"
MAX_ROWS = 20_000_000
USAGE_START = date(2025, 11, 1)
USAGE_DAYS = 392  # 2025-11-01 to 2026-11-27: 13 months, ending where the demo's usage ends
DEMO_SHARE = 4_000  # events of acme's own demo file; the rest are loaded by the benchmark
LOAD_FILE_NAME = "bench-pages.ndjson"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
REQUEST_LIST_TARGET_MS = 300
RATIO_TARGET = 1.5
ROLES = {"finance_admin": f"{SLUG}-finadmin", "budget_owner": f"{SLUG}-owner"}


def org_routes(resolver=None, namespace: str = "", prefix: str = ""):
    """(name, route) of every named route, with the prefixes it is mounted under (admin left out)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from org_routes(pattern, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", prefix + str(pattern.pattern)


def portal_pages() -> list[str]:
    """Route names under /o/<org_slug>/ that take no other argument and are not downloads."""
    names = []
    for name, route in org_routes():
        if name.startswith("api:") or "<slug:org_slug>" not in route:
            continue
        if route.replace("<slug:org_slug>", "").count("<") or route.endswith((".csv", ".json", ".xlsx")):
            continue
        names.append(name)
    return sorted(set(names))


def api_lists() -> list[str]:
    return sorted(
        {
            name
            for name, route in org_routes()
            if name.startswith("api:") and name.endswith("-list") and "<" not in route
        }
    )


class Command(BaseCommand):
    help = (
        "Benchmark every portal page and API list of the finance admin and the budget owner at --rows usage "
        "events, on PostgreSQL (prints JSON: median ms per page, ratio to --baseline)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000, help="acme's usage events (default 10,000).")
        parser.add_argument("--repeat", type=int, default=5, help="Timed renders per page; the median is kept.")
        parser.add_argument("--baseline", help="An earlier run's JSON output: print each page's ratio to it.")
        parser.add_argument("--output", help="Also write the JSON to this file (e.g. a baseline for later).")
        parser.add_argument(
            "--template-rows",
            type=int,
            default=TEMPLATE_ROWS,
            help=f"Events put through the real ingest; the rest repeat them by SQL (default {TEMPLATE_ROWS:,}).",
        )
        parser.add_argument(
            "--keep-db", action="store_true", help="Keep the scratch database; reuse it when it has --rows events."
        )

    def handle(
        self,
        *args,
        rows: int,
        repeat: int,
        baseline: str | None,
        output: str | None,
        keep_db: bool,
        template_rows: int,
        **_,
    ):
        if not DEMO_SHARE <= rows <= MAX_ROWS or repeat < 1:
            raise CommandError(f"--rows must be from {DEMO_SHARE:,} to {MAX_ROWS:,} and --repeat at least 1.")
        if connection.vendor != "postgresql":
            raise CommandError("The page benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
        host = settings.DATABASES["default"].get("HOST") or ""
        if host not in LOOPBACK:
            raise CommandError(
                f"The page benchmark loads millions of rows: it runs on this machine only, not {host!r}."
            )
        before = json.loads(open(baseline).read()) if baseline else None  # noqa: SIM115 - read at once
        settings.DEBUG = False  # as served: no query log, no debug templates
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        logging.getLogger("django.request").setLevel(logging.ERROR)
        old_config = setup_databases(verbosity=0, interactive=False, keepdb=keep_db, serialized_aliases=())
        try:
            # The demo's statements mail their owners: keep those out of the printed JSON.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                organization, load_seconds = self._world(rows, template_rows)
                pages = self._measure(organization, repeat=repeat)
        finally:
            teardown_databases(old_config, verbosity=0, keepdb=keep_db)
        result = self._report(rows, load_seconds, repeat, pages, before)
        text = json.dumps(result, indent=2)
        if output:
            with open(output, "w") as handle:
                handle.write(text + "\n")
        self.stdout.write(text)

    # --- the world ------------------------------------------------------------------------------------

    def _world(self, rows: int, template_rows: int):
        from apps.tenancy.models import Organization
        from apps.usage.models import UsageRecord

        organization = Organization.objects.filter(slug=SLUG).first()
        if organization is not None:
            with organization_scope(organization):
                stored = UsageRecord.objects.filter(organization=organization).count()
            if stored == rows:
                self.stderr.write(f"reusing the scratch database: {SLUG} has {rows:,} usage events")
                return organization, None
            raise CommandError(
                f"The kept scratch database has {stored:,} events for {SLUG}, not {rows:,}: run once without "
                "--keep-db to drop it, then again."
            )
        started = time.perf_counter()
        self._seed(rows, template_rows)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        seconds = time.perf_counter() - started
        organization = Organization.objects.get(slug=SLUG)
        self.stderr.write(f"built the demo with {rows:,} usage events for {SLUG} in {seconds:,.0f}s")
        return organization, seconds

    def _seed(self, rows: int, template_rows: int) -> None:
        """``seed_demo`` with acme's usage raised to ``rows``: the extra events go in right after the demo's
        own usage, so reconciliation, allocation and the month end see all of them."""
        from apps.portal.management.commands import seed_demo
        from apps.usage import demo as usage_demo
        from apps.usage.bulk_load import usage_bulk_load

        def more_usage(*, organization, stdout):
            if organization.slug != SLUG:
                return
            extra = rows - DEMO_SHARE
            if extra:
                started = time.perf_counter()
                job = usage_bulk_load(
                    organization=organization,
                    rows=extra,
                    start=USAGE_START,
                    days=USAGE_DAYS,
                    template_rows=template_rows,
                    file_name=LOAD_FILE_NAME,
                    log=self.stderr.write,
                )
                seconds = time.perf_counter() - started
                rate = job.accepted / seconds
                self.stderr.write(f"loaded {job.accepted:,} events in {seconds:,.0f}s ({rate:,.0f}/s)")
                if job.accepted != extra:
                    raise CommandError(f"Only {job.accepted:,} of {extra:,} events were stored.")

        seeders = list(seed_demo.APP_SEEDERS)
        seeders.insert(seeders.index(usage_demo.seed_demo) + 1, more_usage)
        with (
            mock.patch.object(seed_demo, "APP_SEEDERS", seeders),
            override_settings(DEMO_USAGE_REQUESTS={SLUG: DEMO_SHARE, "globex": 800}),
        ):
            call_command("seed_demo", stdout=io.StringIO())

    # --- the clocks -----------------------------------------------------------------------------------

    def _clients(self, organization) -> dict[str, Client]:
        from django.contrib.auth import get_user_model
        from django_otp.oath import TOTP
        from django_otp.plugins.otp_totp.models import TOTPDevice

        clients = {}
        for label, username in ROLES.items():
            user = get_user_model().objects.get(username=username)
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            # A device of its own: a code is good once per 30-second step, and a rerun may fall in the same one.
            device = TOTPDevice.objects.create(user=user, name=f"bench-pages-{time.time_ns()}", confirmed=True)
            code = f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
            response = client.post(reverse("accounts:mfa_verify"), {"otp_token": code, "next": "/"})
            if response.status_code != 302:
                raise CommandError(f"{username} could not pass the second factor ({response.status_code}).")
            clients[label] = client
        return clients

    def _api_client(self, organization) -> Client:
        from apps.accounts.services import api_client_create
        from apps.tenancy.roles import TokenScope

        with organization_scope(organization):
            _, token = api_client_create(
                organization=organization,
                actor=None,
                name=f"bench-pages-{time.time_ns()}",
                scopes=list(TokenScope.values),
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        return Client(HTTP_HOST="localhost", headers={"Authorization": f"Bearer {token}"})

    def _targets(self, organization) -> list[tuple[str, str, str]]:
        """(key, role, url) of everything to render."""
        from apps.core.keyset import encode_cursor

        slug = {"org_slug": organization.slug}
        targets = []
        for role in ROLES:
            for name in portal_pages():
                targets.append((f"{role} {name}", role, reverse(name, kwargs=slug)))
        records = reverse("usage:records", kwargs=slug)
        middle = datetime(2026, 10, 16, 12, tzinfo=UTC)
        deep = encode_cursor(when=middle, pk=2**62, direction="o", salt=f"usage.records:{organization.pk}")
        for role in ROLES:
            targets.append((f"{role} usage:records month=2026-10", role, f"{records}?month=2026-10"))
            targets.append((f"{role} usage:records deep", role, f"{records}?month=2026-10&cursor={deep}"))
            targets.append((f"{role} usage:records customer", role, f"{records}?tag_customer=cust_042"))
        for name in api_lists():
            targets.append((f"api {name}", "api", reverse(name)))
        return targets

    def _measure(self, organization, *, repeat: int) -> dict:
        clients = self._clients(organization)
        clients["api"] = self._api_client(organization)
        pages = {}
        for key, role, url in self._targets(organization):
            client = clients[role]
            response = client.get(url)  # warm-up
            if response.status_code == 302 and response["Location"].startswith("/"):
                url = response["Location"]  # a page that opens on another (e.g. the latest run): time that
                response = client.get(url)
            status = response.status_code
            timings = []
            for _ in range(repeat if status == 200 else 0):
                started = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            pages[key] = {
                "url": url,
                "status": status,
                "median_ms": round(statistics.median(timings), 1) if timings else None,
            }
            self.stderr.write(f"{key:<60} {status} {pages[key]['median_ms']}")
        return pages

    def _report(self, rows: int, load_seconds, repeat: int, pages: dict, before: dict | None) -> dict:
        worst = None
        for key, page in pages.items():
            if before and page["median_ms"] is not None:
                old = (before.get("pages") or {}).get(key, {}).get("median_ms")
                page["ratio"] = round(page["median_ms"] / old, 2) if old else None
                if page["ratio"] is not None and (worst is None or page["ratio"] > worst[1]):
                    worst = (key, page["ratio"])
        request_list = [p["median_ms"] for k, p in pages.items() if "usage:records" in k and p["median_ms"]]
        return {
            "rows": rows,
            "repeat": repeat,
            "load_seconds": round(load_seconds) if load_seconds is not None else None,
            "baseline_rows": before.get("rows") if before else None,
            "pages": pages,
            "request_list_worst_ms": max(request_list) if request_list else None,
            "request_list_target_met": bool(request_list) and max(request_list) < REQUEST_LIST_TARGET_MS,
            "worst_ratio": {"page": worst[0], "ratio": worst[1]} if worst else None,
            "ratio_target_met": (worst[1] <= RATIO_TARGET) if worst else None,
        }
