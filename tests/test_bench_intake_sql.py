"""The intake replay for pgbench keeps every statement but makes unique values differ per run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import intake_sql  # noqa: E402

NUMBER = "CS20261122000677"
STATEMENTS = [
    'SELECT "core_apitoken"."id" FROM "core_apitoken" WHERE "core_apitoken"."digest" = \'ab\' LIMIT 1',
    'UPDATE "core_apitoken" SET "last_used_at" = now() WHERE "core_apitoken"."id" = 4',
    "BEGIN",
    f'INSERT INTO "complaints_case" ("number", "title") VALUES (\'{NUMBER}\', \'a, (b)\') RETURNING "complaints_case"."id"',
    'INSERT INTO "complaints_caseevent" ("case_id", "type") SELECT * FROM UNNEST((\'{677,677}\'::int2[])::bigint[], (\'{a,b}\')::varchar[]) RETURNING "complaints_caseevent"."id"',
    f'INSERT INTO "complaints_casemessage" ("case_id", "body") VALUES (677, \'您的申请 {NUMBER} 已受理\') RETURNING "complaints_casemessage"."id"',
    'INSERT INTO "complaints_outgoingmail" ("case_id", "message_id", "raw") VALUES (677, 677, \'To: x@y\nDate: 04:36:27\') RETURNING "complaints_outgoingmail"."id"',
    'INSERT INTO "core_outboxevent" ("event_type", "idempotency_key") VALUES (\'case.created\', \'9b6f7399-fe92-498f-84d0-ba7653115030\')',
    'SELECT "core_audithead"."id", "core_audithead"."last_seq" FROM "core_audithead" WHERE "core_audithead"."id" = 1 FOR UPDATE',
    'INSERT INTO "core_auditentry" ("seq", "digest") SELECT * FROM UNNEST((\'{874,875}\'::int8[])::bigint[], (\'{'
    + "a" * 64
    + ","
    + "b" * 64
    + "}')::varchar[])",
    'UPDATE "core_audithead" SET "last_seq" = 875, "last_digest" = \'x\' WHERE "core_audithead"."id" = 1',
    "COMMIT",
]


def test_replay_refers_to_its_own_rows_and_unique_values():
    script = intake_sql.pgbench_script(NUMBER, STATEMENTS)
    assert intake_sql.audit_rows(STATEMENTS) == 2
    assert 'core_apitoken" SET' not in script  # the once-a-minute stamp is not per request
    assert NUMBER not in script and "CS20261:n" in script
    case_line = next(line for line in script.splitlines() if 'INTO "complaints_case"' in line)
    assert case_line.endswith("\\gset r0_") and "'a, (b)'" in case_line
    assert "UNNEST(('{:r0_id,:r0_id}'" in script
    assert "VALUES (:r0_id, '您的申请 CS20261:n 已受理')" in script
    # the case id and the message id had the same literal: each column gets its own row
    assert "VALUES (:r0_id, :r1_id, 'To: x@y\nDate: 04:36:27')" in script
    assert "md5(random()::text)" in script and "9b6f7399" not in script
    assert "UNNEST((ARRAY[:h_last_seq + 1, :h_last_seq + 2])" in script
    assert "a" * 52 + ":n" in script and "b" * 52 + ":n" in script
    assert '"last_seq" = :h_last_seq + :audit_rows' in script and script.startswith("\\set audit_rows 2")
    assert script.count("BEGIN;") == 1 and script.count("COMMIT;") == 1
