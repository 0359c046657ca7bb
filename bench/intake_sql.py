"""The SQL of one complaint intake, replayed by pgbench: the like-for-like database baseline.

`capture(env, body, token)` files two cases through the Django test client in a separate process
(the same code path as POST /api/v1/cases, on the benchmark database) and returns the statements
the second one sent, in order. `pgbench_script(statements)` turns them into a pgbench script that
sends the same statements, in the same transactions, with what must differ per run made to differ:
the case number (and everything that carries it), the row ids the later statements refer to, the
audit chain's next sequence number, and the unique keys of the outbox rows. pgbench then measures
what the database alone can do with one intake's work; the HTTP figure divided by it says how much
of the cost is the application (Python, Django, JSON, HTTP) rather than the database.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

CAPTURE = r"""
import json, sys
import django
django.setup()
from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client

token, bodies = json.loads(sys.stdin.read())
client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
client.post("/api/v1/cases", json.dumps(bodies[0]), content_type="application/json")  # warm caches
settings.DEBUG = True
reset_queries()
response = client.post("/api/v1/cases", json.dumps(bodies[1]), content_type="application/json")
assert response.status_code == 201, response.content
print(json.dumps({"number": response.json()["case"]["number"], "sql": [q["sql"] for q in connection.queries]}))
"""

_UUID = r"'[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}'"


def capture(env: dict, token: str, bodies: list[dict]) -> tuple[str, list[str]]:
    """(case number, statements) of one intake, caches warm."""
    out = subprocess.run(
        [sys.executable, "-c", CAPTURE],
        input=json.dumps([token, bodies[:2]]),
        env={**env, "DJANGO_SETTINGS_MODULE": "marketguard.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["number"], data["sql"]


def _table(sql: str) -> str:
    m = re.match(r'\s*(?:INSERT INTO|UPDATE|SELECT .*? FROM)\s+"(\w+)"', sql, re.S)
    return m[1] if m else ""


def pgbench_script(number: str, statements: list[str]) -> str:
    """A pgbench script sending `statements` again, with fresh unique values on every run."""
    rows = audit_rows(statements)
    lines = [f"\\set audit_rows {rows}", "SELECT nextval('bench_intake_n') AS n \\gset"]
    fk_vars: dict[str, str] = {}  # foreign key column -> pgbench variable holding the new id
    for sql in statements:
        table = _table(sql)
        if sql.startswith("UPDATE") and table == "core_apitoken":
            continue  # last-used stamp: written at most once a minute per token, not per request
        # the case number (in the case row, the notice, the e-mail, the outbox payload, the audit)
        # becomes unique per run: the run counter replaces its last 9 digits
        sql = sql.replace(number, number[:-9] + ":n")
        if sql.startswith("INSERT") and fk_vars:
            sql = _refer(sql, fk_vars)
        if table == "core_auditentry" and sql.startswith("INSERT"):
            # each entry's digest is unique in the chain: the run counter makes it differ per run
            sql = re.sub(r"\b([0-9a-f]{52})[0-9a-f]{12}\b", r"\1:n", _audit_seq(sql))
        if table == "core_audithead" and sql.startswith("UPDATE"):
            sql = re.sub(r'"last_seq" = \d+', '"last_seq" = :h_last_seq + :audit_rows', sql)
        if table in ("core_outboxevent", "django_tasks_database_dbtaskresult"):
            sql = re.sub(_UUID, "md5(random()::text)", sql, count=1)
        if table == "core_audithead" and sql.startswith("SELECT"):
            lines.append(sql + " \\gset h_")
        elif sql.startswith("INSERT") and 'RETURNING "' in sql and table in _FK:
            var = f"r{len(fk_vars)}_"
            lines.append(sql + f" \\gset {var}")
            fk_vars[_FK[table]] = f"{var}id"
        else:
            lines.append(sql + ";")
    return "\n".join(lines) + "\n"


#: Tables whose new id later statements carry, and the name of that foreign key.
_FK = {"complaints_case": "case_id", "complaints_casemessage": "message_id"}

_INSERT = re.compile(r'(INSERT INTO "\w+" \(([^)]*)\) )(VALUES \((.*)\)|SELECT \* FROM UNNEST\((.*))', re.S)


def _refer(sql: str, fk_vars: dict[str, str]) -> str:
    """Make the foreign keys of an INSERT point at the rows this run inserted."""
    m = _INSERT.match(sql)
    if not m:
        return sql
    names = [c.strip().strip('"') for c in m[2].split(",")]
    if not set(names) & set(fk_vars):
        return sql
    if m[4] is not None:  # VALUES (...) [RETURNING ...]
        body, tail = m[3], ""
        if " RETURNING " in body:
            body, tail = body[: body.rindex(" RETURNING ")], body[body.rindex(" RETURNING ") :]
        rows = []
        for row in _values(body[len("VALUES ") :]):
            fields = _values(row[1:-1])
            for i, name in enumerate(names):
                if name in fk_vars:
                    fields[i] = f":{fk_vars[name]}"
            rows.append("(" + ", ".join(fields) + ")")
        return m[1] + "VALUES " + ", ".join(rows) + tail + sql[m.end() :]
    first = re.match(r"\('\{([\d,]+)\}'", m[5].strip())  # UNNEST: the first column's array
    if first and names[0] in fk_vars:
        n = len(first[1].split(","))
        ref = ",".join([f":{fk_vars[names[0]]}"] * n)
        return sql.replace(first[0], f"('{{{ref}}}'", 1)
    return sql


def _values(text: str) -> list[str]:
    """Split a VALUES list on top-level commas (string literals may hold commas and brackets)."""
    out, depth, cur, quoted, i = [], 0, "", False, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            cur += ch
            if ch == "'" and text[i + 1 : i + 2] == "'":
                cur, i = cur + "'", i + 1
            elif ch == "'":
                quoted = False
        elif ch == "'":
            quoted, cur = True, cur + ch
        elif ch in "(":
            depth, cur = depth + 1, cur + ch
        elif ch == ")":
            depth, cur = depth - 1, cur + ch
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out


_UNNEST_FIRST = re.compile(r"UNNEST\(\('\{([\d,]+)\}'::int\d\[\]\)")


def audit_rows(statements: list[str]) -> int:
    """How many audit entries one intake appends."""
    for sql in statements:
        if _table(sql) == "core_auditentry" and sql.startswith("INSERT"):
            m = _UNNEST_FIRST.search(sql)
            if m:
                return len(m[1].split(","))
            values = sql.split(" VALUES ", 1)[1]
            values = values[: values.rindex(" RETURNING")] if " RETURNING" in values else values
            return len(_values(values))
    return 0


def _audit_seq(sql: str) -> str:
    """The entries' sequence numbers follow the chain head read under lock (:h_last_seq)."""
    m = _UNNEST_FIRST.search(sql)
    if m:  # bulk insert: UNNEST(('{874,875}'::int8[])::bigint[], ...)
        seqs = ", ".join(f":h_last_seq + {k + 1}" for k in range(len(m[1].split(","))))
        return sql.replace(m[0], f"UNNEST((ARRAY[{seqs}])", 1)
    head, values = sql.split(" VALUES ", 1)
    tail = ""
    if " RETURNING" in values:
        values, tail = values[: values.rindex(" RETURNING")], values[values.rindex(" RETURNING") :]
    rows = []
    for k, row in enumerate(_values(values)):
        fields = _values(row[1:-1])
        fields[0] = f":h_last_seq + {k + 1}"
        rows.append("(" + ", ".join(fields) + ")")
    return head + " VALUES " + ", ".join(rows) + tail
