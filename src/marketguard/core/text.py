"""Text as people meant it: control characters (NUL, ESC, ...) removed, line breaks and tabs kept.

Pasted text sometimes carries them; PostgreSQL refuses NUL in text and JSON, and an e-mail
subject refuses any of them. Removed at the way in (the API's parser, the services' text
checks), so nothing stored or sent carries them."""

from __future__ import annotations

import re
from typing import Any

#: C0 controls but tab, line feed and carriage return; DEL; C1 controls
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def plain(value: str) -> str:
    return _CONTROL.sub("", value)


def plain_data(value: Any) -> Any:
    """Every string in parsed JSON (dicts, lists) made plain; other values unchanged."""
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, dict):
        return {plain(k) if isinstance(k, str) else k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value
