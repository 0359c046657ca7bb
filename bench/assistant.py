"""Smart customer service (智能客服) retrieval: index build time, questions per second and quality
on the labelled questions of ``complaints/data/assistant_eval.jsonl``.

Usage: .venv/bin/python bench/assistant.py [--seconds 2]
Prints its figures and writes them to the "Smart customer service retrieval" section of bench/RESULTS.md (``--no-write``:
print only). Pure Python: no database, no Django.

Figures:
- first use in a fresh process: importing the module (and the triage lexicon it uses), loading
  the articles and building the index, as the first chat request would wait (median of 3);
- index build alone (median of 20, module already imported);
- questions per second, one at a time as the chat asks them: ``detect_intent`` then
  ``Index.search`` (k=3), over every question of the evaluation file, repeated for ``--seconds``;
- quality per split of the evaluation file and overall: top-1 and top-3 accuracy, share answered
  confidently and rightly / wrongly, unrelated questions answered confidently, intent precision
  and recall. Only the ``fresh3`` split was never tuned on (see the module docstring).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import run  # noqa: E402  (bench/ is on the path when a bench script runs)

from marketguard.complaints import assistant  # noqa: E402

EVAL_PATH = ROOT / "src" / "marketguard" / "complaints" / "data" / "assistant_eval.jsonl"
FIRST_USE = (
    "import time; t = time.perf_counter(); "
    "from marketguard.complaints import assistant as a; a.Index.build(a.load_articles()); "
    "print(time.perf_counter() - t)"
)


def first_use(runs: int = 3) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_USE], capture_output=True, text=True, check=True, env=env
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def build_time(articles, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        assistant.Index.build(articles)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def throughput(index: assistant.Index, questions: list[str], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for q in questions:
            if assistant.detect_intent(q) is None:
                index.search(q, k=3)
            done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to measure throughput")
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()

    rows = [json.loads(line) for line in EVAL_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = assistant.load_articles()
    say = run.Report(
        "Smart customer service retrieval",
        "python bench/assistant.py --seconds " + str(args.seconds),
        run.machine(),
    )
    say(f"articles: {len(articles)}; evaluation questions: {len(rows)}")
    say(f"first use in a fresh process (import + load + build): {first_use() * 1000:.0f} ms")
    say(f"index build: {build_time(articles) * 1000:.1f} ms (median of 20)")
    index = assistant.Index.build(articles)
    qps = throughput(index, [r["question"] for r in rows], args.seconds)
    say(f"questions per second (detect_intent + search, one at a time): {qps:,.0f}")
    say()
    header = f"{'split':<9}{'n':>5}{'top-1':>8}{'top-3':>8}{'conf ok':>9}{'conf bad':>10}{'unrel conf':>12}{'intent P':>10}{'intent R':>10}"
    say(header)
    splits = sorted({r["split"] for r in rows}, key=["dev", "heldout", "fresh", "fresh2", "fresh3"].index)
    for split in [*splits, "all"]:
        part = [r for r in rows if split == "all" or r["split"] == split]
        m = assistant.evaluate(index, part)
        say(
            f"{split:<9}{len(part):>5}{m['top1']:>8.3f}{m['top3']:>8.3f}{m['confident_right']:>9.3f}"
            f"{m['confident_wrong']:>10.3f}{len(m['unrelated_confident']):>6}/{m['unrelated']:<5}"
            f"{m['intent_precision']:>10.3f}{m['intent_recall']:>10.3f}"
        )

    if not args.no_write:
        say.write()


if __name__ == "__main__":
    main()
