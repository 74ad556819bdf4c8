"""Content-Security-Policy: the header on every page, and pages that satisfy it (no inline scripts, inline
event handlers, style attributes or style elements; htmx from static files)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from apps.tenancy.roles import Role

ROOT = Path(__file__).resolve().parent.parent.parent

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)
JS_URL = re.compile(r"javascript:", re.I)
HTMX_EVAL = re.compile(r"\shx-on[:-]|hx-vals=['\"]\s*js:|hx-headers=['\"]\s*js:", re.I)
RULES = {
    "inline <script>": INLINE_SCRIPT,
    "inline event handler": EVENT_HANDLER,
    "style attribute": STYLE_ATTRIBUTE,
    "<style> element": STYLE_ELEMENT,
    "javascript: URL": JS_URL,
    "htmx eval": HTMX_EVAL,
}


def _problems(html: str) -> list[str]:
    return [f"{name}: {m.group(0)!r}" for name, rule in RULES.items() for m in rule.finditer(html)]


def _templates():
    for folder in (ROOT / "templates", *sorted((ROOT / "apps").glob("*/templates"))):
        yield from sorted(folder.rglob("*.html"))


@pytest.mark.parametrize("path", list(_templates()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_what_the_policy_blocks(path):
    assert _problems(path.read_text()) == []


def test_the_checker_finds_what_it_should():
    assert len(_problems('<button onclick="x()">')) == 1
    assert len(_problems("<script>alert(1)</script>")) == 1
    assert len(_problems('<div style="width:3%">')) == 1
    assert _problems('<script src="/static/portal/portal.js" defer></script><button data-confirm="Sure?">') == []


def _directives(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


@pytest.mark.django_db
def test_every_page_carries_the_policy_without_unsafe_sources(world):
    response = world.login("a", Role.FINANCE_ANALYST).get(reverse("portal:home", kwargs={"org_slug": "alpha"}))
    header = response["Content-Security-Policy"]
    directives = _directives(header)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in header
    login = reverse("accounts:login")
    from django.test import Client

    assert "Content-Security-Policy" in Client().get(login)


@pytest.mark.django_db
def test_htmx_comes_from_static_and_is_told_not_to_inline(world):
    page = world.login("a", Role.VIEWER).get(reverse("portal:home", kwargs={"org_slug": "alpha"})).content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in page
    assert '<script src="/static/portal/portal.js" defer></script>' in page
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page


PAGES = [
    ("portal:home", Role.FINANCE_ADMIN),
    ("accounts:members", Role.ORG_ADMIN),
    ("accounts:settings", Role.ORG_ADMIN),
    ("accounts:api_clients", Role.ORG_ADMIN),
    ("owners:list", Role.FINANCE_ANALYST),
    ("periods:board", Role.FINANCE_ADMIN),
    ("usage:jobs", Role.FINANCE_ANALYST),
    ("invoices:list", Role.FINANCE_ANALYST),
    ("audit:history", Role.ORG_ADMIN),
    ("rules:list", Role.FINANCE_ANALYST),
    ("statements:list", Role.BUDGET_OWNER),
    ("disputes:list", Role.FINANCE_ANALYST),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "role"), PAGES)
def test_rendered_pages_satisfy_the_policy(world, url_name, role):
    response = world.login("a", role).get(reverse(url_name, kwargs={"org_slug": "alpha"}))
    assert response.status_code == 200
    assert _problems(response.content.decode()) == []


@pytest.mark.django_db
def test_the_enrolment_page_with_its_qr_code_satisfies_the_policy(world):
    response = world.login("a", Role.VIEWER).get(reverse("accounts:mfa_setup"))
    html = response.content.decode()
    assert "<svg" in html
    assert _problems(html) == []
