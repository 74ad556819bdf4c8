"""Run a management command with its SQL recorded and checked as in the PostgreSQL test run.

    DATABASE_URL=postgres://… python -m tests.routing seed_demo [arguments…]

Prints the offending shapes (with ``--all``, every shape checked and its verdict) and the summary line; exits
1 when a shape is flagged or cannot be parsed. The database is the one of DATABASE_URL, migrated: the command
runs for real.
"""

import os
import sys


def main(argv: list[str]) -> int:
    show_all = "--all" in argv
    argv = [arg for arg in argv if arg != "--all"]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    from .recorder import StatementLog, analyse, tenant_tables

    log = StatementLog()
    log.install()
    log.origin = "manage.py " + " ".join(argv)
    try:
        call_command(*argv)
    finally:
        log.origin = None
        log.uninstall()
    checked, exempt = tenant_tables()
    report = analyse(log.statements(), checked, exempt)
    for line in report.lines():
        print(line)
    if show_all:
        for shape in report.shapes:
            verdict = "; ".join(map(str, shape.offences)) or shape.unparsed or "routes"
            print(f"{shape.executions:6}  {verdict}\n        {' '.join(shape.text.split())[:300]}")
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
