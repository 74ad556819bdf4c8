import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django_scopes import scope

from apps.audit.models import GENESIS_HASH, AppendOnlyError, AuditEvent
from apps.audit.services import audit_chain_verify, audit_record
from apps.audit.triggers import create_statements, drop_statements

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def _append(organization, n: int, actor=None) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit_record(
                    organization=organization,
                    actor=actor,
                    action=f"test.step{i}",
                    object_type="test",
                    object_id=str(i),
                    before={"n": i},
                    after={"n": i + 1},
                    reason=f"step {i}",
                )
            )
    return events


class TriggersOff:
    """Lets a test play the attacker with direct SQL; the DDL is rolled back with the test."""

    def __enter__(self):
        with connection.cursor() as cursor:
            for sql in drop_statements(connection.vendor, TABLE):
                cursor.execute(sql)

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            for sql in create_statements(connection.vendor, TABLE):
                cursor.execute(sql)


def _sql(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_form_a_chain_per_organisation(world):
    a_events = _append(world.org("a"), 3)
    b_events = _append(world.org("b"), 2)
    with scope(organization=world.org("a")):
        baseline = AuditEvent.objects.count() - 3
    assert [e.seq for e in a_events] == [baseline + 1, baseline + 2, baseline + 3]
    assert a_events[1].prev_hash == a_events[0].hash and a_events[2].prev_hash == a_events[1].hash
    assert len(b_events[0].hash) == 64
    with scope(organization=world.org("b")):
        first_b = AuditEvent.objects.order_by("seq").first()
    assert first_b.seq == 1 and first_b.prev_hash == GENESIS_HASH
    assert audit_chain_verify(organization=world.org("a")).ok
    assert audit_chain_verify(organization=world.org("b")).ok


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(organization=organization, actor=None, action="x")


def test_model_refuses_update_and_delete(world):
    [event] = _append(world.org("a"), 1)
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with scope(organization=world.org("a")):
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(reason="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).delete()


def test_database_refuses_direct_update_and_delete(world):
    [event] = _append(world.org("a"), 1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["rewritten", event.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])
    with scope(organization=world.org("a")):
        assert AuditEvent.objects.get(pk=event.pk).reason == "step 0"


def _verify_fails_naming(organization, seq: int, words: str) -> None:
    result = audit_chain_verify(organization=organization)
    assert not result.ok
    assert result.first_bad_seq == seq
    assert words in result.problem
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain", org=organization.slug)
    assert excinfo.value.returncode == 1


def test_a_changed_event_is_detected(world):
    events = _append(world.org("a"), 4)
    with TriggersOff():
        _sql(f"UPDATE {TABLE} SET after = %s WHERE id = %s", ['{"n": 999}', events[2].pk])
    _verify_fails_naming(world.org("a"), events[2].seq, "was changed")


def test_a_changed_actor_is_detected(world):
    events = _append(world.org("a"), 2)
    with TriggersOff():
        _sql(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", ["someone-else", events[0].pk])
    _verify_fails_naming(world.org("a"), events[0].seq, "was changed")


def test_a_deleted_event_is_detected(world):
    events = _append(world.org("a"), 4)
    with TriggersOff():
        _sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])
    _verify_fails_naming(world.org("a"), events[2].seq, "removed")


def test_a_deleted_last_event_breaks_nothing_before_it_but_reordering_does(world):
    events = _append(world.org("a"), 3)
    # Swap the order of two events by exchanging their sequence numbers.
    with TriggersOff():
        _sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [100000, events[0].pk])
        _sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [events[0].seq, events[1].pk])
        _sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [events[1].seq, events[0].pk])
    _verify_fails_naming(world.org("a"), events[0].seq, "does not link")


def test_a_forged_event_with_a_recomputed_own_hash_still_breaks_the_next_link(world):
    events = _append(world.org("a"), 3)
    with scope(organization=world.org("a")):
        forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.reason = "nothing to see"
    new_hash = forged.compute_hash()
    with TriggersOff():
        _sql(f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE id = %s", [forged.reason, new_hash, forged.pk])
    _verify_fails_naming(world.org("a"), events[2].seq, "does not link")


def test_command_reports_every_intact_chain(world, capsys):
    _append(world.org("a"), 2)
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "alpha: intact" in out and "beta: intact" in out


def test_command_rejects_an_unknown_org(world):
    with pytest.raises(CommandError, match="No organisation with slug 'nope'"):
        call_command("verify_audit_chain", org="nope")


def test_the_other_organisations_chain_is_unaffected_by_tampering(world):
    events = _append(world.org("a"), 2)
    _append(world.org("b"), 2)
    with TriggersOff():
        _sql(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["x", events[0].pk])
    assert not audit_chain_verify(organization=world.org("a")).ok
    assert audit_chain_verify(organization=world.org("b")).ok
