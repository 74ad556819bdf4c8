"""The chain head published outside the database, and verification against it (apps/audit/anchoring.py)."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from apps.audit import anchoring
from apps.audit.models import AuditAnchor, AuditChainCheck, AuditEvent
from apps.audit.services import AnchorRefused, audit_anchor_publish, audit_chain_check, audit_chain_verify
from apps.audit.tasks import publish_anchors, verify_chains
from apps.tenancy.roles import Role
from tests.audit.test_chain import TABLE, TriggersOff, _append, _sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchor_dir(settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = str(tmp_path / "anchors")
    settings.AUDIT_ANCHOR_KEY = "test-anchor-key-not-secret"
    return tmp_path / "anchors"


def _tail(organization) -> AuditEvent:
    with scope(organization=organization):
        return AuditEvent.objects.order_by("-seq").first()


def _publish(organization, **kwargs):
    with scope(organization=organization):
        return audit_anchor_publish(organization=organization, **kwargs)


def _lines(anchor_dir, organization) -> list[dict]:
    path = anchor_dir / f"org-{organization.pk}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_head_is_published_signed_once_and_again_when_the_chain_grows(world, anchor_dir):
    a = world.org("a")
    _append(a, 3)
    tail = _tail(a)
    anchor = _publish(a)
    assert (anchor.seq, anchor.hash, anchor.sinks) == (tail.seq, tail.hash, {"directory": "ok"})
    [line] = _lines(anchor_dir, a)
    assert (line["seq"], line["hash"], line["organization_id"], line["organization"]) == (
        tail.seq,
        tail.hash,
        a.pk,
        "alpha",
    )
    # The signature is HMAC-SHA256 over the rest of the line, keyed with AUDIT_ANCHOR_KEY.
    import hashlib
    import hmac

    unsigned = {k: v for k, v in line.items() if k != "mac"}
    expected = hmac.new(
        b"test-anchor-key-not-secret",
        json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode(),
        hashlib.sha256,
    ).hexdigest()
    assert line["mac"] == expected == anchor.mac

    # Nothing new: nothing published (the sink already holds the head).
    assert _publish(a) is None
    assert len(_lines(anchor_dir, a)) == 1
    _append(a, 2)
    second = _publish(a)
    assert second.seq == tail.seq + 2
    assert [line["seq"] for line in _lines(anchor_dir, a)] == [tail.seq, tail.seq + 2]

    result = audit_chain_verify(organization=a)
    assert result.ok and result.anchored_seq == tail.seq + 2 and result.events_checked == tail.seq + 2
    # Each organisation has its own file: b's chain was never published.
    assert not (anchor_dir / f"org-{world.org('b').pk}.jsonl").exists()
    assert audit_chain_verify(organization=world.org("b")).anchor_note == "not anchored yet"


def test_deleting_the_newest_events_is_detected_against_the_published_head(world, anchor_dir):
    a = world.org("a")
    events = _append(a, 4)
    _publish(a)
    with TriggersOff():
        _sql(f"DELETE FROM {TABLE} WHERE id IN (%s, %s)", [events[2].pk, events[3].pk])
    # The chain that is left is intact by itself: only the published head shows what is missing.
    result = audit_chain_verify(organization=a)
    assert not result.ok
    assert f"the chain ends at #{events[1].seq} but #{events[3].seq} was published" in result.problem
    assert "the newest 2 event(s) were removed" in result.problem
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain", org="alpha")
    assert excinfo.value.returncode == 1
    # And that chain's tail is never published over the head it lost.
    with pytest.raises(AnchorRefused, match="were removed"):
        _publish(a)
    assert len(_lines(anchor_dir, a)) == 1


def test_a_chain_rewritten_with_recomputed_hashes_is_detected(world, anchor_dir):
    a = world.org("a")
    events = _append(a, 3)
    _publish(a)
    # The attacker changes an event and recomputes every hash after it: the chain links again.
    with scope(organization=a):
        rows = list(AuditEvent.objects.filter(seq__gte=events[1].seq).order_by("seq"))
    prev_hash = rows[0].prev_hash
    with TriggersOff():
        for row in rows:
            row.reason = "nothing to see" if row.pk == events[1].pk else row.reason
            row.prev_hash = prev_hash
            row.hash = row.compute_hash()
            _sql(
                f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [row.reason, row.prev_hash, row.hash, row.pk],
            )
            prev_hash = row.hash
    result = audit_chain_verify(organization=a)
    assert not result.ok
    assert f"event #{events[2].seq} no longer has the hash published" in result.problem
    assert "rewritten" in result.problem


def test_a_forged_line_in_the_sink_is_detected(world, anchor_dir):
    a = world.org("a")
    events = _append(a, 3)
    _publish(a)
    # Someone appends a head of their own (without the key) to cover a shortened chain.
    line = _lines(anchor_dir, a)[-1]
    forged = {**line, "seq": events[1].seq, "hash": events[1].hash, "mac": "0" * 64}
    with (anchor_dir / f"org-{a.pk}.jsonl").open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
    result = audit_chain_verify(organization=a)
    assert not result.ok
    assert f"the last published head (#{events[1].seq}" in result.problem
    assert "does not carry a valid signature" in result.problem
    # A last line that is not a publication at all is reported, not skipped.
    with (anchor_dir / f"org-{a.pk}.jsonl").open("a") as handle:
        handle.write("not json\n")
    assert "cannot be read" in audit_chain_verify(organization=a).problem


def test_a_lost_sink_is_reported_from_the_record_of_publications(world, anchor_dir):
    a = world.org("a")
    _append(a, 2)
    anchor = _publish(a)
    (anchor_dir / f"org-{a.pk}.jsonl").unlink()
    result = audit_chain_verify(organization=a)
    assert not result.ok
    assert f"#{anchor.seq} was published to it" in result.problem


def test_the_record_of_publications_is_not_trusted(world, anchor_dir):
    """An attacker who rewrites AuditAnchor rows to match a shortened chain changes nothing: the sink decides."""
    a = world.org("a")
    events = _append(a, 3)
    _publish(a)
    with scope(organization=a):
        AuditAnchor.objects.update(seq=events[1].seq, hash=events[1].hash)
    with TriggersOff():
        _sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[2].pk])
    assert "were removed" in audit_chain_verify(organization=a).problem


def test_without_a_directory_nothing_is_anchored_and_verification_says_so(world, settings):
    settings.AUDIT_ANCHOR_DIR = ""
    _append(world.org("a"), 1)
    assert _publish(world.org("a")) is None
    result = audit_chain_verify(organization=world.org("a"))
    assert result.ok and result.anchored_seq is None and result.anchor_note == "no anchor directory configured"


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_and_email_sinks_receive_the_same_signed_line(
    world, anchor_dir, settings, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.bodies = []
    try:
        settings.AUDIT_ANCHOR_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/anchors"
        settings.AUDIT_ANCHOR_EMAILS = ["auditor@example.com"]
        a = world.org("a")
        _append(a, 2)
        with django_capture_on_commit_callbacks(execute=True):
            anchor = _publish(a)
    finally:
        server.shutdown()
        server.server_close()
    [line] = _lines(anchor_dir, a)
    assert _Receiver.bodies == [line]
    assert anchor.sinks == {"directory": "ok", "webhook": "ok", "email": "queued"}
    [mail] = mailoutbox
    assert mail.to == ["auditor@example.com"]
    assert f"#{anchor.seq}" in mail.subject and line["mac"] in mail.body
    # A receiver that is down is reported on the publication; the directory still holds the head.
    settings.AUDIT_ANCHOR_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/anchors"
    _append(a, 1)
    later = _publish(a)
    assert later.sinks["directory"] == "ok" and later.sinks["webhook"].startswith("failed:")
    with scope(organization=a):
        assert AuditAnchor.objects.get(pk=later.pk).sinks == later.sinks


def test_nightly_verification_records_every_organisation_and_alerts_org_admins_once(
    world, anchor_dir, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    a, b = world.org("a"), world.org("b")
    events = _append(a, 3)
    _append(b, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_anchors() == {
            a.slug: _tail(a).seq,
            b.slug: _tail(b).seq,
        }
    with django_capture_on_commit_callbacks(execute=True):
        assert verify_chains() == {a.slug: True, b.slug: True}
    assert mailoutbox == []

    with TriggersOff():
        _sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[2].pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert verify_chains() == {a.slug: False, b.slug: True}
    [mail] = mailoutbox
    # The org admins of a, and nobody else (not b's, not a's other roles).
    assert mail.to == [world.user("a", Role.ORG_ADMIN).email]
    assert "FAILED" in mail.subject and "were removed" in mail.body
    with scope(organization=a):
        checks = list(AuditChainCheck.objects.order_by("checked_at", "id").values_list("ok", "alerted"))
    assert checks == [(True, 0), (False, 1)]
    with scope(organization=b):
        assert list(AuditChainCheck.objects.values_list("ok", flat=True)) == [True, True]

    # The hourly publication runs into the same finding: refused, recorded, not mailed again within a day.
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_anchors()[a.slug] == "refused"
    assert len(mailoutbox) == 1
    with scope(organization=a):
        assert AuditChainCheck.objects.filter(ok=False).count() == 2
        # A day later it is mailed again.
        with django_capture_on_commit_callbacks(execute=True):
            audit_chain_check(organization=a, now=timezone.now() + timedelta(hours=25))
    assert len(mailoutbox) == 2


def test_the_command_names_the_published_head_it_reached(world, anchor_dir, capsys):
    _append(world.org("a"), 2)
    anchor = _publish(world.org("a"))
    call_command("verify_audit_chain", org="alpha", record=True)
    assert f"alpha: intact ({anchor.seq} events; reaches published head #{anchor.seq})" in capsys.readouterr().out
    with scope(organization=world.org("a")):
        assert AuditChainCheck.objects.get().anchored_seq == anchor.seq


def test_the_last_line_is_read_from_the_end_of_a_long_sink(world, anchor_dir):
    a = world.org("a")
    path = anchor_dir / f"org-{a.pk}.jsonl"
    anchor_dir.mkdir(parents=True)
    filler = anchoring.make_line(
        organization_id=a.pk, organization_slug=a.slug, seq=1, hash="f" * 64, published_at=timezone.now()
    )
    with path.open("w") as handle:
        for _ in range(200):  # ~40 kB: many blocks of 4 kB
            handle.write(json.dumps(filler) + "\n")
    with transaction.atomic():
        _append(a, 1)
    last = anchoring.make_line(
        organization_id=a.pk, organization_slug=a.slug, seq=7, hash="e" * 64, published_at=timezone.now()
    )
    anchoring.directory_append(a.pk, last)
    head = anchoring.directory_last_head(a.pk)
    assert (head.seq, head.hash, head.signed) == (7, "e" * 64, True)
