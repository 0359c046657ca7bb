"""The import file reader returns exactly what was written, whatever the text holds."""

import csv
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketguard.catalog.fileio import read_rows

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=40
)
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "external_id": st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True),
            "name": text,
            "address": text,
            "attributes": st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), text, max_size=3),
        }
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy)
def test_csv_round_trip(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, "attributes": json.dumps(row["attributes"], ensure_ascii=False)})
        back = list(read_rows(path, json_columns=("attributes",)))
    assert [n for n, _ in back] == list(range(1, len(rows) + 1))
    for (_, got), want in zip(back, rows):
        assert got["external_id"] == want["external_id"]
        assert got["name"] == want["name"] and got["address"] == want["address"]
        assert got["attributes"] == want["attributes"] or (
            want["attributes"] == {} and got["attributes"] in ({}, "{}")
        )


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy)
def test_parquet_round_trip(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.parquet"
        flat = [{**r, "attributes": json.dumps(r["attributes"], ensure_ascii=False)} for r in rows]
        pq.write_table(pa.Table.from_pylist(flat), path)
        back = [row for _, row in read_rows(path, json_columns=("attributes",))]
    assert [{k: r[k] for k in ("external_id", "name", "address")} for r in back] == [
        {k: r[k] for k in ("external_id", "name", "address")} for r in rows
    ]
    assert [r["attributes"] for r in back] == [r["attributes"] for r in rows]


def test_extra_cells_are_kept_so_validation_can_name_them(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("external_id,name\nB1,张三,surplus\n", encoding="utf-8")
    ((number, row),) = list(read_rows(path))
    assert number == 1 and row["__extra_cells__"] == ["surplus"]
