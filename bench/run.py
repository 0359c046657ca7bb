"""Benchmarks: seed and import throughput (rows/s) on SQLite and PostgreSQL, in one run.

Usage: make bench   (or .venv/bin/python bench/run.py [--scale small|medium] [--only sqlite|postgresql])
Writes bench/RESULTS.md (machine, date, command, figures). Each engine gets a fresh database.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "marketguard.cli"]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgres://postgres@127.0.0.1:5432/marketguard_bench"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, TypeError):
        pass
    pg = subprocess.run(["psql", PG_ADMIN, "-tAc", "show server_version"], capture_output=True, text=True)
    return (
        f"{platform.node()}: {os.cpu_count()} × {cpu}{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {__import__('sqlite3').sqlite_version}; "
        f"PostgreSQL {pg.stdout.strip() or 'n/a'}"
    )


LAST_PEAK_KB = 0


def run(args: list[str], env: dict) -> float:
    """Run one CLI command; wall-clock seconds. Its own peak memory goes to LAST_PEAK_KB."""
    global LAST_PEAK_KB
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([*CLI, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        LAST_PEAK_KB = usage.ru_maxrss
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(args)} failed:\n{out.read()[-4000:].decode(errors='replace')}")
    return elapsed


def fresh_env(engine: str, var: Path) -> dict:
    env = {**os.environ, "MARKETGUARD_VAR": str(var), "MARKETGUARD_ENV": "dev", "DEBUG": "false"}
    env.pop("DATABASE_URL", None)
    if engine == "postgresql":
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS marketguard_bench"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE marketguard_bench"], check=True)
        env["DATABASE_URL"] = PG_BENCH
    return env


def count_rows(env: dict) -> dict[str, int]:
    code = (
        "import django,json;django.setup();from marketguard.catalog import models as m;"
        "print(json.dumps({k: getattr(m,c).objects.count() for k,c in [('categories','Category'),('merchants','Merchant'),"
        "('stores','Store'),('products','Product'),('buyers','Buyer'),('orders','Order'),('order_items','OrderItem'),"
        "('shipments','Shipment')]}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "marketguard.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    return json.loads(out)


KINDS = ("categories", "merchants", "stores", "products", "buyers", "orders", "order_items", "shipments")


def export_demo(env: dict, folder: Path) -> None:
    """Write the demo marketplace out as CSV and Parquet files, one per kind, for the import runs."""
    code = f"""
import django; django.setup()
from marketguard.catalog import demo_data
import csv, json, pyarrow as pa, pyarrow.parquet as pq
from pathlib import Path
folder = Path({str(folder)!r})
demo = demo_data.generate({SCALE!r}, 1)
rows = {{k: list(getattr(demo, k)) for k in ("categories", "merchants", "stores", "products", "buyers")}}
rows.update({{"orders": [], "order_items": [], "shipments": []}})
for o, i, s in demo.order_chunks(chunk_size=5000):
    rows["orders"] += o; rows["order_items"] += i; rows["shipments"] += s
for kind, data in rows.items():
    data = [{{k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in r.items()}}
            for r in data]
    with open(folder / f"{{kind}}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0])); w.writeheader(); w.writerows(data)
    pq.write_table(pa.Table.from_pylist(data), folder / f"{{kind}}.parquet")
"""
    subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "marketguard.settings"},
        check=True,
    )


SCALE = "small"


def bench_engine(engine: str) -> list[tuple[str, str, int, float]]:
    import pyarrow.parquet as pq

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(engine, Path(tmp) / "seeded")
        run(["migrate", "-v", "0"], env)
        seconds = run(["seed", "--scale", SCALE, "--seed", "1"], env)
        rows = sum(count_rows(env).values())
        results.append((engine, f"seed {SCALE}: first load, all kinds", rows, seconds))
        seconds = run(["seed", "--scale", SCALE, "--seed", "1"], env)
        results.append((engine, f"seed {SCALE} again: every row an update", rows, seconds))

        export_demo(env, Path(tmp))
        env = fresh_env(engine, Path(tmp) / "imported")
        run(["migrate", "-v", "0"], env)
        for fmt, what in (
            ("csv", "CSV into an empty database (inserts)"),
            ("parquet", "Parquet, same rows (updates)"),
        ):
            total_rows, total_seconds = 0, 0.0
            for kind in KINDS:
                path = Path(tmp) / f"{kind}.{fmt}"
                n = pq.ParquetFile(path.with_suffix(".parquet")).metadata.num_rows
                seconds = run(["import", kind, str(path)], env)
                total_rows += n
                total_seconds += seconds
                if kind in ("orders", "order_items", "shipments"):
                    results.append((engine, f"import {kind}: {what}", n, seconds))
            results.append((engine, f"import all 8 kinds: {what}", total_rows, total_seconds))
    return results


def large_seed(engines: list[str]) -> None:
    """`marketguard seed --scale large` (1M orders) per engine: wall time and peak memory."""
    lines = [
        "## Large demo seed (1,000,000 orders)",
        "",
        f"- machine: {machine()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `python bench/run.py --large-seed{' --only ' + engines[0] if len(engines) == 1 else ''}`",
        "",
        "| engine | rows | seconds | rows/s | peak memory of the seed process |",
        "|---|---:|---:|---:|---:|",
    ]
    for engine in engines:
        with tempfile.TemporaryDirectory() as tmp:
            env = fresh_env(engine, Path(tmp) / "var")
            run(["migrate", "-v", "0"], env)
            seconds = run(["seed", "--scale", "large", "--seed", "1"], env)
            peak = LAST_PEAK_KB
            rows = sum(count_rows(env).values())
        memory = f"{peak / 1024:,.0f} MB"
        lines.append(f"| {engine} | {rows:,} | {seconds:,.0f} | {rows / seconds:,.0f} | {memory} |")
        print(lines[-1], flush=True)
    lines.append("")
    replace_section("Large demo seed", "\n".join(lines))


def main() -> None:
    global SCALE
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--large-seed", action="store_true", help="time the 1M-order demo seed instead")
    args = parser.parse_args()
    if args.large_seed:
        large_seed([args.only] if args.only else ["sqlite", "postgresql"])
        return
    SCALE = args.scale
    engines = [args.only] if args.only else ["sqlite", "postgresql"]
    all_results = []
    with tempfile.TemporaryDirectory() as tmp:
        startup = min(run(["check"], fresh_env("sqlite", Path(tmp))) for _ in range(3))
    for engine in engines:
        print(f"benchmarking {engine} ...", flush=True)
        all_results += bench_engine(engine)
    lines = [
        "## Seed and import throughput",
        "",
        f"- machine: {machine()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{' '.join(['python', 'bench/run.py', *sys.argv[1:]])}` (from `make bench`)",
        "- each figure is one wall-clock run of the CLI command in a fresh process, start-up included",
        f"  (`marketguard check`, the bare start-up, took {startup:.2f} s here): small files are dominated by it;",
        '  the "Large demo seed" section shows the sustained rate. A noisy shared machine: compare ratios within one run.',
        "",
        "| engine | what | rows | seconds | rows/s |",
        "|---|---|---:|---:|---:|",
    ]
    for engine, what, rows, seconds in all_results:
        lines.append(f"| {engine} | {what} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} |")
    lines.append("")
    replace_section("Seed and import throughput", "\n".join(lines))
    print("\n".join(lines))


RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\nWritten by `make bench`; every section names its machine, date and command.\n"
)


def replace_section(title: str, text: str) -> None:
    """Write one "## title" section of bench/RESULTS.md, keeping the other sections."""
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    parts = existing.split("\n## ")
    head, sections = parts[0], parts[1:]
    kept = [sec for sec in sections if not sec.startswith(title)]
    body = text.removeprefix("## ")
    RESULTS.write_text(
        "\n## ".join([head.rstrip() + "\n", *[k.rstrip() + "\n" for k in kept], body.rstrip() + "\n"]),
        encoding="utf-8",
    )


class Report:
    """Lines a bench script prints, also written as one section of bench/RESULTS.md (machine,
    date and command first, the figures as printed in a code block)."""

    def __init__(self, title: str, command: str, machine_text: str):
        self.title, self.command, self.machine, self.lines = title, command, machine_text, []
        print(f"machine: {machine_text}")

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def write(self) -> None:
        replace_section(
            self.title,
            "\n".join(
                [
                    f"## {self.title}",
                    "",
                    f"- machine: {self.machine}",
                    f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                    f"- command: `{self.command}` (from `make bench`)",
                    "",
                    "```",
                    *self.lines,
                    "```",
                    "",
                ]
            ),
        )


if __name__ == "__main__":
    main()
