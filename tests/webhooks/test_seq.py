"""An organisation's event numbers are gap-free and in commit order: ``emit`` takes the organisation's counter
row with an UPDATE whose lock lasts to the end of the transaction, so a second transaction waits for the first
to commit (or roll back) before it takes a number, and a rolled-back event gives its number back."""

import threading

import pytest
from django.db import connection, connections, transaction
from django_scopes import scope

from apps.webhooks.events import emit
from apps.webhooks.models import Event, EventCounter
from tests.test_celery_worker import _skip


def _emit(organization, object_id: str):
    return emit(
        organization=organization,
        type="period.closed",
        object_type="period",
        object_id=object_id,
        api_path=f"/api/v1/periods/{object_id}/",
        data={"period": object_id},
    )


def _seqs(organization) -> list[tuple[int, str]]:
    with scope(organization=organization):
        return list(Event.objects.filter(organization=organization).order_by("seq").values_list("seq", "object_id"))


@pytest.mark.django_db
def test_a_rolled_back_event_gives_its_number_back_and_each_organisation_counts_alone(world):
    a, b = world.org("a"), world.org("b")
    _emit(a, "2026-01")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _emit(a, "2026-02").seq == 2
        raise RuntimeError("the change failed")
    _emit(b, "2026-01")
    _emit(a, "2026-03")
    assert _seqs(a) == [(1, "2026-01"), (2, "2026-03")]
    assert _seqs(b) == [(1, "2026-01")]
    with scope(organization=a):
        assert EventCounter.objects.get(organization=a).last == 2


def _blockers(pid: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
        return list(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
def test_a_second_transaction_waits_for_the_first_and_numbers_after_what_it_committed(world, first_commits):
    if connection.vendor != "postgresql":
        _skip("two transactions at once need two real connections to one database: set DATABASE_URL to PostgreSQL")
    organization = world.org("a")
    _emit(organization, "2026-01")  # the counter row exists (seq 1)
    first_emitted, release_first, second_started = threading.Event(), threading.Event(), threading.Event()
    pids, seqs, errors = {}, {}, []

    def first() -> None:
        try:
            with transaction.atomic():
                pids["first"] = connection.connection.info.backend_pid
                seqs["first"] = _emit(organization, "2026-02").seq
                first_emitted.set()
                assert release_first.wait(timeout=60)
                if not first_commits:
                    raise _RolledBack()
        except _RolledBack:
            pass
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)
            first_emitted.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            assert first_emitted.wait(timeout=60)
            with transaction.atomic():
                connection.ensure_connection()
                pids["second"] = connection.connection.info.backend_pid
                second_started.set()
                seqs["second"] = _emit(organization, "2026-03").seq
        except Exception as exc:
            errors.append(exc)
            second_started.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert second_started.wait(timeout=60) and not errors, errors
        # The second transaction is waiting for the first one's lock on the counter row.
        waiting = threading.Event()
        for _ in range(600):
            if pids["first"] in _blockers(pids["second"]):
                break
            waiting.wait(0.05)
        assert pids["first"] in _blockers(pids["second"]), "the second emit did not wait for the first"
        assert "second" not in seqs
    finally:
        release_first.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert seqs["first"] == 2
    if first_commits:
        assert seqs["second"] == 3
        assert _seqs(organization) == [(1, "2026-01"), (2, "2026-02"), (3, "2026-03")]
    else:
        assert seqs["second"] == 2  # the number the rolled-back event gave back: no gap
        assert _seqs(organization) == [(1, "2026-01"), (2, "2026-03")]


class _RolledBack(Exception):
    pass
