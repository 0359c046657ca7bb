"""One way to make a value JSON-safe: round-trip it through Django's encoder, so what is stored
(and hashed, for the audit chain) is exactly what the database gives back."""

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder


def jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))
