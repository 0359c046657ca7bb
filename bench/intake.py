"""Complaint intake over HTTP on PostgreSQL, compared in the same run with pgbench's single-row
INSERT throughput on the same server.

Usage: .venv/bin/python bench/intake.py [--seconds 20] [--connections 8] [--workers 4]
Needs wrk and pgbench (Debian packages wrk and postgresql-client / postgresql). Writes the
"Complaint intake" section of bench/RESULTS.md.

What one request does: POST /api/v1/cases with a bearer token; the service validates, triages the
text, picks the SLA policy, computes deadlines on the business calendar, numbers the case,
checks for duplicates, writes the case, its timeline, the one-time materials notice and its
e-mail, the audit records (hash chain) and the outbox event, routes after-sales requests to the
merchant, and enqueues the mail task after the commit. Two baselines in the same run: pgbench's
single-row INSERT (the issue's) and pgbench replaying the very statements of one intake
(`intake_sql.py`), which is what the database alone can do with the same work.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import intake_sql  # noqa: E402
from run import PG_ADMIN, machine, replace_section  # noqa: E402

DB = "marketguard_intake_bench"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
PORT = 8765


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def prepare(env: dict) -> tuple[str, list[dict]]:
    sh(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DB}"])
    sh(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {DB}"])
    cli = [sys.executable, "-m", "marketguard.cli"]
    sh([*cli, "migrate", "-v", "0"], env=env)
    sh([*cli, "seed", "--scale", "small", "--seed", "1"], env=env)
    code = """
import django, json, random; django.setup()
from marketguard.core import services
from marketguard.core.models import Role, User
from marketguard.catalog.models import Order
user = User.objects.create(username="bench-intake", role=Role.ADMIN)
_, token = services.create_api_token(actor=None, user=user, name="bench")
rng = random.Random(5)
orders = list(Order.objects.filter(status__in=["delivered", "completed"]).select_related("buyer")[:2000])
texts = ["收到的商品有质量问题，做工粗糙，申请退货退款", "The zipper broke after two days, poor quality",
         "尺码偏小，与描述不符，想换大一号", "快递太慢了，承诺两天到，一周还没到", "商品与描述不符，颜色差别很大",
         "客服态度很差，问了三次都不回复", "怀疑是假货，防伪码查不到", "少发了一件配件，包装里没有充电线"]
kinds = ["complaint", "return_refund", "exchange", "complaint", "refund_only"]
bodies = [{"kind": rng.choice(kinds), "channel": "api", "order": o.external_id, "buyer": o.buyer.external_id,
           "description": rng.choice(texts)} for o in orders]
print(json.dumps({"token": token, "bodies": bodies}))
"""
    out = sh(
        [sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "marketguard.settings"}
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["token"], data["bodies"]


def lua_script(path: Path, token: str, bodies: list[dict]) -> None:
    encoded = ",\n".join("[[" + json.dumps(b, ensure_ascii=False) + "]]" for b in bodies)
    path.write_text(
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local bodies = {{
{encoded}
}}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/api/v1/cases", nil, bodies[(i % #bodies) + 1])
end
""",
        encoding="utf-8",
    )


def run_wrk(script: Path | None, seconds: int, connections: int, path: str = "") -> dict:
    """wrk against the bench server: the intake script's POSTs, or (script None) GET `path`."""
    load = ["-s", str(script)] if script else []
    out = sh(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *load,
            f"http://127.0.0.1:{PORT}{path}",
        ]
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])

    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m[1]), m[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out)[1])
    return {
        "rps": rps,
        "p50": ms("50"),
        "p90": ms("90"),
        "p99": ms("99"),
        "non2xx": int(bad[1]) if bad else 0,
        "requests": total,
        "raw": out,
    }


def run_pgbench(seconds: int, connections: int) -> float:
    sh(
        [
            "psql",
            DB_URL,
            "-qc",
            "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial primary key, a int, "
            "b timestamptz, c text)",
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write("\\set r random(1, 1000000)\nINSERT INTO bench_insert (a, b, c) VALUES (:r, now(), 'x');\n")
        script = fh.name
    out = sh(
        ["pgbench", "-n", "-c", str(connections), "-j", "2", "-T", str(seconds), "-f", script, DB]
    ).stdout
    os.unlink(script)
    return float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)[1])


def run_replay(env: dict, token: str, bodies: list[dict], seconds: int, connections: int) -> dict:
    """pgbench sending the statements of one real intake (captured), same connections."""
    number, statements = intake_sql.capture(env, token, bodies[-2:])
    sh(["psql", DB_URL, "-qc", "CREATE SEQUENCE IF NOT EXISTS bench_intake_n START 100000000"])
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, encoding="utf-8") as fh:
        text = intake_sql.pgbench_script(number, statements)
        fh.write(text)
        script = fh.name
    out = sh(
        ["pgbench", "-n", "-r", "-c", str(connections), "-j", "2", "-T", str(seconds), "-f", script, DB]
    ).stdout
    os.unlink(script)
    sql = [q for q in statements if not q.startswith('UPDATE "core_apitoken"')]
    return {
        "slowest": slowest_statements(out, text),
        "latency": float(re.search(r"latency average = ([\d.]+) ms", out)[1]),
        "tps": float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)[1]),
        "statements": len(sql),
        "writes": sum(q.startswith(("INSERT", "UPDATE")) for q in sql),
        "failed": int(m[1]) if (m := re.search(r"number of failed transactions: (\d+)", out)) else 0,
    }


def slowest_statements(out: str, script: str = "", n: int = 3) -> list[tuple[float, str]]:
    """The `n` statements of the replay with the highest average latency (pgbench -r), each as
    (ms, what it is: its verb and table). pgbench cuts long statements short in its report: they
    are named from the script's own lines, which it lists in order."""
    body = out.split("statement latencies", 1)[-1]
    flat = " ".join(script.split())
    rows = []
    for m in re.finditer(r"^\s+([\d.]+)\s+\d+\s+(\S.*)$", body, re.M):
        sql = " ".join(m[2].split())
        if sql.startswith("\\"):
            continue  # a pgbench meta-command
        at = flat.find(sql[:80])
        if at >= 0:  # the statement as the script has it, as far as its first table
            sql = flat[at : at + 4000].split("; ", 1)[0]
        named = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)', sql) or re.search(r'"(\w+)"', sql)
        table = intake_sql._table(sql) or (named[1] if named else "")
        verb = sql.split()[0].rstrip(";").upper()
        lock = " FOR UPDATE" if "FOR UPDATE" in sql else ""
        rows.append((float(m[1]), f"{verb} {table}{lock}".strip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(
                f"{tool} is required (apt-get install {tool if tool == 'wrk' else 'postgresql-client'})"
            )
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": DB_URL,
            "MARKETGUARD_VAR": tmp,
            "MARKETGUARD_ENV": "dev",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
        print("preparing database and demo data ...", flush=True)
        token, bodies = prepare(env)
        print(f"pgbench replaying one intake's statements {args.seconds}s ...", flush=True)
        replay = run_replay(env, token, bodies, args.seconds, args.connections)
        script = Path(tmp) / "post.lua"
        lua_script(script, token, bodies)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "marketguard.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(args.workers),
                "--threads",
                "1",
                "--log-level",
                "warning",
            ],
            env=env,
            start_new_session=True,
        )
        try:
            for _ in range(60):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.5)
            print("warming up ...", flush=True)
            run_wrk(script, 3, args.connections)
            print(f"pgbench {args.seconds}s ...", flush=True)
            tps = run_pgbench(args.seconds, args.connections)
            print(f"wrk {args.seconds}s ...", flush=True)
            http = run_wrk(script, args.seconds, args.connections)
            print(f"wrk {args.seconds}s at 2 connections ...", flush=True)
            light = run_wrk(script, args.seconds, 2)
            print(f"wrk {args.seconds}s GET /healthz (the stack's ceiling) ...", flush=True)
            ceiling = run_wrk(None, args.seconds, args.connections, "/healthz")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        cases = sh(["psql", DB_URL, "-tAc", "select count(*) from complaints_case"]).stdout.strip()
    ratio = http["rps"] / tps
    ratio_replay = http["rps"] / replay["tps"]
    ratio_ceiling = ceiling["rps"] / tps
    lines = [
        "## Complaint intake over HTTP (PostgreSQL)",
        "",
        f"- machine: {machine()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `python bench/intake.py --seconds {args.seconds} --connections {args.connections} "
        f"--workers {args.workers}` (from `make bench`)",
        f"- server: gunicorn, {args.workers} sync workers, DEBUG off; load: wrk, 2 threads, {args.connections} "
        "connections, on the same machine (it competes for the same 2 cores)",
        "- baseline 1 (the issue's): pgbench, same connections, one-row `INSERT` per transaction",
        f"- baseline 2 (like for like): pgbench, same connections, sending the {replay['statements']} statements "
        f"({replay['writes']} writes, 2 transactions and the task enqueue) that one intake sent, captured from "
        "a real request in this run, with fresh case numbers, ids and audit sequence per run "
        "(`bench/intake_sql.py`): what the database alone does with one intake's work",
        "- ceiling: the same server answering `GET /healthz` (every middleware, one `SELECT 1`, same "
        "connections): the most any request through this stack can do on this machine, whatever it writes",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| pgbench single-row INSERT | {tps:,.0f} TPS |",
        f"| pgbench replaying one intake's statements | {replay['tps']:,.0f} TPS ({replay['failed']} failed) |",
        f"| complaint intake (POST /api/v1/cases) | {http['rps']:,.1f} requests/s |",
        f"| ratio intake / pgbench single-row INSERT | {ratio:.3f} (the issue's target ≥ 0.3) |",
        f"| ratio intake / pgbench replaying the intake | {ratio_replay:.2f} |",
        f"| latency p50 / p90 / p99 | {http['p50']:.1f} / {http['p90']:.1f} / {http['p99']:.1f} ms (target p99 < 100 ms) |",
        f"| at 2 connections: requests/s, p50 / p99 | {light['rps']:,.1f}, {light['p50']:.1f} / {light['p99']:.1f} ms |",
        f"| ceiling: GET /healthz | {ceiling['rps']:,.0f} requests/s, ratio {ratio_ceiling:.3f} to pgbench single-row "
        f"INSERT; p99 {ceiling['p99']:.1f} ms |",
        f"| replay: average transaction time; slowest statements | {replay['latency']:.1f} ms; "
        + "; ".join(f"{what} {ms:.1f} ms" for ms, what in replay["slowest"])
        + " |",
        f"| requests / non-2xx answers | {http['requests']:,} / {http['non2xx']} |",
        f"| cases in the database afterwards | {int(cases):,} |",
        "",
    ]
    replace_section("Complaint intake over HTTP (PostgreSQL)", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
