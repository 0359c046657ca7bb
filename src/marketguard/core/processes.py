"""Child processes run side by side (the demo's web server and worker): they end together, on
Ctrl-C or on SIGTERM from whatever stops the parent, so none is left running on its own."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Sequence


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def supervise(procs: Sequence[subprocess.Popen], *, ready: Callable[[], None] | None = None) -> None:
    """Wait while every process runs (after `ready`, called once, e.g. to wait for the server and
    print the logins); when one ends, on Ctrl-C or on SIGTERM, stop the others (SIGTERM, then
    SIGKILL after 10 s)."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if ready is not None:
            ready()
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
