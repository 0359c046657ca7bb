"""Reading import files (CSV or Parquet) as numbered rows of plain dicts, streaming."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from pathlib import Path


class FileProblem(Exception):
    pass


def count_rows(path: Path) -> int | None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if suffix == ".csv":
        with path.open("rb") as fh:
            return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1)
    return None


def read_rows(path: Path, *, json_columns: tuple[str, ...] = ()) -> Iterator[tuple[int, dict]]:
    """Yield (row number, row). JSON-valued columns given as text are parsed; bad JSON stays text
    so that validation reports it against its field."""
    if not path.exists():
        raise FileProblem(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_rows(path, json_columns)
    elif suffix == ".parquet":
        yield from _parquet_rows(path, json_columns)
    else:
        raise FileProblem("the file must end in .csv or .parquet")


def _decode_json(row: dict, json_columns) -> dict:
    for col in json_columns:
        value = row.get(col)
        if isinstance(value, str) and value.strip():
            with contextlib.suppress(json.JSONDecodeError):
                row[col] = json.loads(value)
    return row


def _csv_rows(path: Path, json_columns) -> Iterator[tuple[int, dict]]:
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise FileProblem(str(exc)) from None
    with fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "external_id" not in reader.fieldnames:
            raise FileProblem("the CSV header must contain an external_id column")
        try:
            for number, row in enumerate(reader, start=1):
                if None in row:  # more cells than header columns
                    extra = row.pop(None)
                    row["__extra_cells__"] = extra
                yield number, _decode_json(row, json_columns)
        except UnicodeDecodeError:
            raise FileProblem("the CSV file must be UTF-8") from None


def _parquet_rows(path: Path, json_columns) -> Iterator[tuple[int, dict]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise FileProblem(f"not a readable Parquet file: {exc}") from None
    if "external_id" not in parquet.schema_arrow.names:
        raise FileProblem("the Parquet file must contain an external_id column")
    number = 0
    for batch in parquet.iter_batches(batch_size=5000):
        for row in batch.to_pylist():
            number += 1
            yield number, _decode_json(row, json_columns)
