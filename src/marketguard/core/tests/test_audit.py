import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from marketguard.core import audit
from marketguard.core.models import AuditEntry, AuditHead, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def _record_three(actor=None):
    merchant = factories.merchant()
    for i in range(3):
        audit.record(
            actor=actor, action=f"step_{i}", obj=merchant, before={"n": i}, after={"n": i + 1}, reason="why"
        )
    return merchant


def _drop_guard():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER core_auditentry_append_only ON core_auditentry")
        else:
            cursor.execute("DROP TRIGGER core_auditentry_append_only")


def test_entries_are_chained_and_verify_clean():
    _record_three()
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    for prev, cur in zip(entries, entries[1:]):
        assert cur.prev_digest == prev.digest
    report = audit.verify()
    assert report.ok and report.checked == len(entries)
    assert AuditHead.objects.get().last_digest == entries[-1].digest


def test_record_keeps_actor_action_before_after_reason(make_user):
    admin = make_user(Role.ADMIN)
    merchant = _record_three(actor=admin)
    entry = AuditEntry.objects.filter(object_id=str(merchant.pk)).last()
    assert (entry.actor, entry.action, entry.before, entry.after, entry.reason) == (
        admin,
        "step_2",
        {"n": 2},
        {"n": 3},
        "why",
    )
    assert entry.object_type == "catalog.merchant"


def test_database_refuses_update_of_an_entry():
    _record_three()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET reason = 'edited' WHERE seq = 2")


def test_model_refuses_update_and_delete():
    _record_three()
    entry = AuditEntry.objects.get(seq=1)
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_verify_reports_an_altered_row():
    _record_three()
    _drop_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET reason = 'nothing happened' WHERE seq = 2")
    report = audit.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "altered")]


def test_verify_reports_a_rewritten_row_by_the_broken_link():
    _record_three()
    _drop_guard()
    entry = AuditEntry.objects.get(seq=2)
    entry.reason = "rewritten"
    payload = audit._payload(entry)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET reason = %s, digest = %s WHERE seq = 2",
            ["rewritten", audit.entry_digest(entry.prev_digest, payload)],
        )
    kinds = {(p.seq, p.kind) for p in audit.verify().problems}
    assert (3, "broken_link") in kinds


def test_verify_reports_a_deleted_row_and_a_deleted_tail():
    _record_three()
    _drop_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = 2")
    kinds = {(p.seq, p.kind) for p in audit.verify().problems}
    assert (2, "missing") in kinds
    last = AuditEntry.objects.order_by("-seq").first().seq
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = %s", [last])
    assert any(p.kind == "head_mismatch" for p in audit.verify().problems)


def test_anchor_detects_a_chain_rewritten_from_scratch():
    _record_three()
    head = AuditEntry.objects.get(seq=2)
    assert audit.verify(anchor=(2, head.digest)).ok
    assert not audit.verify(anchor=(2, "f" * 64)).ok


def test_cli_verify_reports_an_altered_row(capsys):
    _record_three()
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out
    _drop_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = 'other' WHERE seq = 1")
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("audit", "verify")
    assert "#1 altered" in capsys.readouterr().out


def test_snapshot_and_changed_keep_only_differences():
    merchant = factories.merchant(name="旧名")
    before = audit.snapshot(merchant)
    merchant.name = "新名"
    after = audit.snapshot(merchant)
    assert audit.changed(before, after) == ({"name": "旧名"}, {"name": "新名"})
