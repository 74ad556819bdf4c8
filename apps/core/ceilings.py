"""Ceilings on the numbers one row of an incoming file may carry, and on the sums they feed.

Every count and amount is checked against these at the door (the usage and invoice readers), so a
row that says ``10**18`` tokens is refused with its line and field instead of overflowing a column
later. The ceilings are far above any real request or bill line, and low enough that one row can
never overflow a 64-bit column by itself. Sums that keep growing (cube cells, job and invoice totals)
are checked against ``MAX_SUM`` when they are added to: a row that would take one over is refused.
The README's "Limits on numbers" table lists them.
"""

from contextlib import contextmanager
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import OperationalError

# One row (a request, a provider usage bucket or a bill line):
MAX_TOKENS_PER_ROW = 10**12  # tokens of one kind (a trillion; a busy day's provider bucket is ~10**10)
MAX_CALLS_PER_ROW = 10**9  # tool calls of one tool, requests in one bucket
MAX_AMOUNT_PER_ROW = Decimal(10**9)  # currency units, either sign: a reported cost or a bill line
MAX_AMOUNT_NANO_PER_ROW = 10**18  # the same in nano-units (10**-9); also caps a row's price-book estimate
MAX_QUANTITY_PER_ROW = Decimal(10**15)  # the usage quantity of a bill line (tokens, hours, requests …)

# A money amount kept in a DecimalField (budgets) stays below this: with two decimals that is at most 14
# significant digits, which SQLite's REAL storage of decimals round-trips exactly (about 15).
MAX_DECIMAL_MONEY = Decimal(10**12)

# A stored sum (a 64-bit integer column): every sum column is checked to stay within ±MAX_SUM.
MAX_SUM = 2**63 - 1


def within_sum(value: int) -> bool:
    return -MAX_SUM <= value <= MAX_SUM


def too_large(what: str) -> ValidationError:
    return ValidationError(
        f"{what} add up to more than can be stored ({MAX_SUM:,} nano-units, about 9.2 billion of the "
        "currency). Look for implausible usage or invoice amounts in the period."
    )


def require_in_range(what: str, values) -> None:
    """Checked arithmetic for a derived total (a run's figures): refuse, with a message, rather than let
    the database overflow or (SQLite) store a float."""
    if any(value is not None and not within_sum(value) for value in values):
        raise too_large(what)


@contextmanager
def sums_checked(what: str):
    """SQLite's SUM() raises "integer overflow" past 64 bits (PostgreSQL's sum of bigints is numeric):
    the same refusal as ``require_in_range`` instead of a server error."""
    try:
        yield
    except OperationalError as exc:
        if "integer overflow" in str(exc):
            raise too_large(what) from exc
        raise
