"""The demo's web server and worker end with it: on SIGTERM to the parent (a process manager, a
`kill`), not only on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """
import subprocess, sys
from marketguard.core.processes import supervise
children = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(2)]
print(" ".join(str(c.pid) for c in children), flush=True)
supervise(children)
print("stopped", flush=True)
"""


def _running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return False
    return stat.read_text().split(")")[-1].split()[0] != "Z"  # a zombie has ended


def test_sigterm_to_the_parent_stops_every_child():
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_running(p) for p in pids)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=20) == 0 and parent.stdout.read().strip() == "stopped"
    deadline = time.monotonic() + 5
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = [p for p in pids if _running(p)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert not leftover


def test_when_one_child_ends_the_other_is_stopped():
    from marketguard.core.processes import supervise

    short = subprocess.Popen([sys.executable, "-c", "pass"])
    long = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    supervise([short, long])
    assert long.poll() is not None and time.monotonic() - started < 15
