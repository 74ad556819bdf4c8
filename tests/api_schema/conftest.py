"""The schemathesis run's figures, printed at the end of the run that collected it."""

from . import figures


def pytest_terminal_summary(terminalreporter):
    if figures.CASES["total"]:
        terminalreporter.write_line(figures.summary())
