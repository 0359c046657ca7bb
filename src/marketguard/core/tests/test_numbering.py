import threading
from datetime import UTC, date, datetime

import pytest
from django.db import close_old_connections
from hypothesis import given
from hypothesis import strategies as st

from marketguard.core.numbering import format_number, next_number, parse_number


@given(
    prefix=st.from_regex(r"[A-Z]{1,8}", fullmatch=True),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    seq=st.integers(min_value=1, max_value=10**8),
)
def test_format_and_parse_round_trip(prefix, day, seq):
    assert parse_number(format_number(prefix, day, seq)) == (prefix, day, seq)


def test_parse_refuses_garbage():
    assert parse_number("TS2026133100001") is None
    assert parse_number("ts20261122000001") is None
    assert parse_number("") is None


@pytest.mark.django_db
def test_numbers_count_per_prefix_and_local_day():
    # 2026-11-21 17:00 UTC is already 2026-11-22 01:00 in Shanghai
    late = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
    assert next_number("TS", when=late) == "TS20261122000001"
    assert next_number("TS", when=late) == "TS20261122000002"
    assert next_number("AS", when=late) == "AS20261122000001"
    assert next_number("TS", when=datetime(2026, 11, 22, 17, 0, tzinfo=UTC)) == "TS20261123000001"


def test_prefix_must_be_capital_letters():
    with pytest.raises(ValueError):
        next_number("ts")


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_under_concurrent_use():
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            for _ in range(15):
                number = next_number("CC")
                with lock:
                    results.append(number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 90
    assert len(set(results)) == 90
    assert sorted(int(r[-6:]) for r in results) == list(range(1, 91))
