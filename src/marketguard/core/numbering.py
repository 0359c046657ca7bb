"""Readable numbers: prefix + local date + sequence, e.g. TS20261122000123.

One statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) increments the day's counter,
so numbers stay unique under concurrent use on PostgreSQL and SQLite alike. Inside a
transaction the counter row stays locked until commit; a rolled-back number is reused.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from marketguard.core.models import NumberSequence

PREFIX_RE = re.compile(r"^[A-Z]{1,8}$")
SEQ_DIGITS = 6


def local_day(when: datetime | None = None) -> date:
    when = when or timezone.now()
    return when.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def format_number(prefix: str, day: date, seq: int) -> str:
    return f"{prefix}{day:%Y%m%d}{seq:0{SEQ_DIGITS}d}"


def parse_number(number: str) -> tuple[str, date, int] | None:
    m = re.fullmatch(r"([A-Z]{1,8})(\d{4})(\d{2})(\d{2})(\d{6,})", number or "")
    if not m:
        return None
    try:
        day = date(int(m[2]), int(m[3]), int(m[4]))
    except ValueError:
        return None
    return m[1], day, int(m[5])


def next_number(prefix: str, *, when: datetime | None = None) -> str:
    if not PREFIX_RE.match(prefix):
        raise ValueError("prefix must be 1-8 capital letters")
    day = local_day(when)
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    sql = (
        f"INSERT INTO {table} (prefix, day, last) VALUES (%s, %s, 1) "  # noqa: S608 - table name is ours
        f"ON CONFLICT (prefix, day) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )
    # Outside a transaction the one statement is a transaction of its own (autocommit): the
    # counter row is locked only while it runs, and no BEGIN and COMMIT round trips are spent.
    # Inside one, a savepoint: a failure leaves the caller's transaction usable.
    scope = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with scope, connection.cursor() as cursor:
        cursor.execute(sql, [prefix, connection.ops.adapt_datefield_value(day)])
        (seq,) = cursor.fetchone()
    return format_number(prefix, day, seq)
