"""Complaint triage: training time of the problem-type classifier, predictions per second of the
keyword rules, the classifier and the combination, and their quality on the held-out texts.

Usage: .venv/bin/python bench/triage.py [--seconds 2] [--skip-quality] [--skip-cv]
Prints its figures and writes them to the "Complaint triage" section of bench/RESULTS.md (``--no-write``:
print only). Pure Python: no database, no Django.

Figures:
- first use in a fresh process: importing scikit-learn and training, as an intake request that
  triggers it would wait (median of 3 subprocesses);
- training alone (median of 5, scikit-learn already imported);
- predictions per second on the held-out texts (``data/triage_heldout.jsonl``), one text at a
  time, for the rules alone, the classifier alone and the combination (what intake runs);
- quality on the held-out texts (never trained or tuned on) per mode: problem-type accuracy,
  safety recall and precision;
- 5-fold cross-validation of the classifier on the training texts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import run  # noqa: E402  (bench/ is on the path when a bench script runs)

from marketguard.complaints import classifier as clf  # noqa: E402
from marketguard.complaints.triage import EVAL_MODES, evaluate, triage  # noqa: E402

FIRST_USE = (
    "import time; t = time.perf_counter(); "
    "from marketguard.complaints.classifier import default_classifier; m = default_classifier(); "
    "print(time.perf_counter() - t, m.train_seconds)"
)


def machine() -> str:
    import sklearn

    return f"{run.machine()}; scikit-learn {sklearn.__version__}"


def first_use(runs: int = 3) -> tuple[float, float]:
    totals, trains = [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_USE], env=env, capture_output=True, text=True, check=True
        )
        total, train = map(float, out.stdout.split())
        totals.append(total)
        trains.append(train)
    return statistics.median(totals), statistics.median(trains)


def rate(fn, texts: list[str], seconds: float) -> float:
    """Texts per second, one call per text, over at least ``seconds``."""
    for text in texts[:20]:  # warm up
        fn(text)
    done, started = 0, time.perf_counter()
    while True:
        for text in texts:
            fn(text)
        done += len(texts)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def combined_cv(rows: list[dict], always: list[dict], k: int = 5) -> dict[str, dict]:
    """Out-of-fold accuracy and safety recall / precision of the rules, the classifier and the
    combination (the rules are not trained: they score every row as it is)."""
    got: dict[str, list[tuple[str, bool]]] = {m: [("", False)] * len(rows) for m in EVAL_MODES}
    for fold in clf.folds(rows, k):
        held = set(fold)
        model = clf.Classifier.train([r for i, r in enumerate(rows) if i not in held] + always)
        for i in fold:
            text = rows[i]["text"]
            p = model.predict(text).problem_type
            got["classifier"][i] = (p, p == "safety")
            for mode, m in (("rules", None), ("combined", model)):
                result = triage(text, classifier=m)
                got[mode][i] = (result.problem_type, result.safety)
    out = {}
    for mode in ("rules", "classifier", "combined"):
        pairs = list(zip(got[mode], rows, strict=True))
        tp = sum(s and r["safety"] for (_, s), r in pairs)
        fp = sum(s and not r["safety"] for (_, s), r in pairs)
        fn = sum(r["safety"] and not s for (_, s), r in pairs)
        out[mode] = {
            "accuracy": sum(p == r["problem_type"] for (p, _), r in pairs) / len(rows),
            "recall": tp / (tp + fn) if tp + fn else float("nan"),
            "precision": tp / (tp + fp) if tp + fp else float("nan"),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per throughput figure")
    parser.add_argument("--skip-quality", action="store_true", help="speed only")
    parser.add_argument("--skip-cv", action="store_true", help="no cross-validation")
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()

    say = run.Report("Complaint triage", "python bench/triage.py --seconds " + str(args.seconds), machine())
    train_rows = clf.load_rows(clf.TRAIN_PATHS)
    heldout = clf.load_rows(clf.HELDOUT_PATH)
    texts = [r["text"] for r in heldout]

    total, train = first_use()
    say(f"first use in a fresh process (import + train), median of 3: {total:.2f} s (training {train:.2f} s)")
    times, model = [], None
    for _ in range(5):
        model = clf.Classifier.train(train_rows)
        times.append(model.train_seconds)
    say(
        f"training on {len(train_rows)} texts, median of 5: {statistics.median(times):.3f} s "
        f"({len(model.index)} features, {len(model.classes)} classes)"
    )

    fns = {
        "rules": lambda t: triage(t, classifier=None),
        "classifier": model.predict,
        "combined": lambda t: triage(t, classifier=model),
    }
    for name, fn in fns.items():
        per_s = rate(fn, texts, args.seconds)
        say(f"{name:10s} {per_s:9.0f} texts/s  ({1e6 / per_s:6.0f} µs per text, {len(texts)} held-out texts)")

    if not args.skip_quality:
        say(f"held-out: {clf.HELDOUT_PATH.name}, {len(heldout)} texts, never trained or tuned on")
        for mode in EVAL_MODES[1:] + EVAL_MODES[:1]:
            report = evaluate(clf.HELDOUT_PATH, mode=mode, classifier=model)
            s = report["safety"]
            say(
                f"  {mode:10s} accuracy {report['accuracy']:.4f}  safety recall {s['recall']:.4f} "
                f"({s['tp']}/{s['tp'] + s['fn']})  precision {s['precision']:.4f} ({s['tp']}/{s['tp'] + s['fp']})"
                f"  negation false positives {report['negation']['false_positives']}/{report['negation']['n']}"
            )
    if not args.skip_cv:
        train_file = clf.load_rows(clf.TRAIN_PATHS[0])
        eval_file = clf.load_rows(clf.TRAIN_PATHS[1])
        cv = clf.cross_validate(train_file, always_train=eval_file)
        say(
            f"5-fold CV on {clf.TRAIN_PATHS[0].name} ({cv['n']} texts; {clf.TRAIN_PATHS[1].name} in every "
            f"training fold): accuracy {cv['accuracy']:.4f} (folds {cv['per_fold']})"
        )
        cv = clf.cross_validate(train_file + eval_file)
        say(
            f"5-fold CV on both files ({cv['n']} texts): accuracy {cv['accuracy']:.4f} (folds {cv['per_fold']})"
        )
        say(f"5-fold CV on {clf.TRAIN_PATHS[0].name}, same folds, per mode:")
        for mode, report in combined_cv(train_file, eval_file).items():
            say(
                f"  {mode:10s} accuracy {report['accuracy']:.4f}  safety recall {report['recall']:.4f} "
                f"precision {report['precision']:.4f}"
            )
        rules = evaluate(clf.TRAIN_PATHS[0], mode="rules")
        say(
            f"rules alone on {clf.TRAIN_PATHS[0].name} (never tuned on it): accuracy {rules['accuracy']:.4f}, "
            f"safety recall {rules['safety']['recall']:.4f} precision {rules['safety']['precision']:.4f}"
        )

    if not args.no_write:
        say.write()


if __name__ == "__main__":
    main()
