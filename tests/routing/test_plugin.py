"""The plugin's end of session: a recorded statement that cannot be routed fails the run, named with the test
that first sent it. Driven with a log of its own (the session's log, on PostgreSQL, is left alone)."""

import types

import pytest

from tests.routing import plugin
from tests.routing.recorder import StatementLog

LOCK_BY_PK = 'SELECT "owners_budget"."id" FROM "owners_budget" WHERE "owners_budget"."id" = %s FOR UPDATE'
ROUTED = 'SELECT "owners_budget"."id" FROM "owners_budget" WHERE "owners_budget"."organization_id" = %s'


class _Terminal:
    def __init__(self):
        self.lines = []

    def section(self, title):
        self.lines.append(f"== {title}")

    def write_line(self, line, **markup):
        self.lines.append(line)


def _finish(monkeypatch, statements, exitstatus=pytest.ExitCode.OK):
    log = StatementLog()
    for sql, origin in statements:
        log.origin = origin
        log(lambda *args: None, sql, [], False, {})
    monkeypatch.setattr(plugin, "_log", log)
    monkeypatch.setattr(plugin, "_report", None)
    session = types.SimpleNamespace(exitstatus=exitstatus)
    plugin.pytest_sessionfinish(session, exitstatus)
    terminal = _Terminal()
    plugin.pytest_terminal_summary(terminal)
    return session, terminal.lines


def test_an_unroutable_statement_fails_the_run_with_its_first_test(monkeypatch, tmp_path):
    report = tmp_path / "routing.txt"
    monkeypatch.setenv("ROUTING_CHECK_REPORT", str(report))
    session, lines = _finish(
        monkeypatch, [(ROUTED, "t.py::a"), (LOCK_BY_PK, "t.py::b"), (LOCK_BY_PK.replace("%s", "7"), "t.py::c")]
    )
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert lines[0] == "== query routing (issue 22)"
    assert "  - row lock: FOR UPDATE/SHARE of owners_budget without organization_id = <value>" in lines
    assert "    2x, first by t.py::b" in lines
    assert lines[-1].startswith("query routing: 3 statements seen (0 not DML), 3 distinct, 2 shapes checked, 1 flagged")
    assert report.read_text().splitlines()[0] == lines[-1]


def test_a_routed_run_passes_with_one_summary_line(monkeypatch):
    session, lines = _finish(monkeypatch, [(ROUTED, "t.py::a"), ('SAVEPOINT "s1_x1"', "t.py::a")])
    assert session.exitstatus == pytest.ExitCode.OK
    assert len(lines) == 1 and lines[0].startswith(
        "query routing: 2 statements seen (1 not DML), 1 distinct, 1 shapes checked, 0 flagged, 0 unparsed"
    )


def test_an_unparsable_statement_fails_the_run_too(monkeypatch):
    session, lines = _finish(monkeypatch, [("SELECT FROM WHERE JOIN", "t.py::a")])
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert "statements that could not be parsed (not proven routed): 1" in lines


def test_a_run_that_already_failed_keeps_its_status(monkeypatch):
    session, _lines = _finish(monkeypatch, [(LOCK_BY_PK, "t.py::a")], exitstatus=pytest.ExitCode.INTERRUPTED)
    assert session.exitstatus == pytest.ExitCode.INTERRUPTED
