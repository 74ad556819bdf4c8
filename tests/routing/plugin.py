"""pytest plugin: every SQL statement the PostgreSQL test run sends must route by organisation (issue 22).

On when the test database is PostgreSQL (``ROUTING_CHECK=off`` turns it off; ``ROUTING_CHECK=on`` makes a run
on another database an error, so CI cannot lose it silently). It records each statement with the test that
first sent it (setup, call and teardown; threads and the live server included; the test database's creation
and migrations excluded), and at the end of the session checks one statement of each shape
(``tests.routing.checker``). Any offending or unparsable shape fails the run, listed with its first test.
``ROUTING_CHECK_REPORT=<path>`` writes the full list there, with the offences on tables of apps still in
``apps.tenancy.keys.PENDING_APPS`` (exempt, counted in the summary line).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .recorder import Report, StatementLog, analyse, tenant_tables

OFF = frozenset({"off", "0", "no", "false"})
ON = frozenset({"on", "1", "yes", "true"})

_log: StatementLog | None = None
_report: Report | None = None


def active_log() -> StatementLog | None:
    """The session's statement log, or None when the check is off (tests of the plugin read it)."""
    return _log


def wanted() -> bool:
    """Whether this run checks its statements (PostgreSQL, unless ROUTING_CHECK=off)."""
    from django.db import connections

    setting = os.environ.get("ROUTING_CHECK", "").strip().lower()
    if setting in OFF:
        return False
    postgresql = connections["default"].vendor == "postgresql"
    if setting in ON and not postgresql:
        raise pytest.UsageError("ROUTING_CHECK=on needs the PostgreSQL test database (DATABASE_URL=postgres://…)")
    return postgresql


def pytest_sessionstart(session):
    global _log
    if wanted():
        _log = StatementLog()
        _log.install()


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    # The test database's creation and migrations are not the application's queries.
    pause = _log is not None and fixturedef.argname == "django_db_setup"
    if pause:
        _log.paused += 1
    try:
        yield
    finally:
        if pause:
            _log.paused -= 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _log is not None:
        _log.origin = item.nodeid
    try:
        yield
    finally:
        if _log is not None:
            _log.origin = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    global _report
    if _log is None:
        return
    _log.uninstall()
    checked, exempt = tenant_tables()
    _report = analyse(_log.statements(), checked, exempt)
    path = os.environ.get("ROUTING_CHECK_REPORT")
    if path:
        Path(path).write_text("\n".join([_report.summary(), *_report.lines(width=100_000)]) + "\n")
    if _report.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _report is None:
        return
    if _report.failed:
        terminalreporter.section("query routing (issue 22)")
        for line in _report.lines():
            terminalreporter.write_line(line)
    terminalreporter.write_line(_report.summary(), red=_report.failed, green=not _report.failed)
