"""One way to make a value JSON-safe: round-trip it through Django's encoder, so what is stored
(and hashed, for the audit chain) is exactly what the database gives back."""

import json
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


class _Encoder(DjangoJSONEncoder):
    """An aware time in UTC, however it was made: one instant is one string (a form gives local
    time, the database UTC, and the audit trail compares them)."""

    def default(self, o):
        if isinstance(o, datetime) and o.utcoffset() is not None:
            o = o.astimezone(UTC)
        return super().default(o)


def jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=_Encoder, ensure_ascii=False))
