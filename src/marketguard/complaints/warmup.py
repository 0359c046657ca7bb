"""Train the triage classifier in the background when a server or worker process starts, so the
first complaint filed does not wait for it (about 2 s: importing scikit-learn and training).
Called from `wsgi.py` and `marketguard worker`, not from `AppConfig.ready()`: every management
command would pay for it."""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)


def start() -> threading.Thread:
    def train() -> None:
        try:
            from marketguard.complaints.classifier import default_classifier

            default_classifier()
        except Exception:  # the first intake trains it instead, and reports the error there
            logger.exception("triage classifier warm-up failed")

    thread = threading.Thread(target=train, name="triage-warmup", daemon=True)
    thread.start()
    return thread
