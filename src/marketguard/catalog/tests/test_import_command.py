import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from marketguard.catalog.models import Buyer, Category

pytestmark = pytest.mark.django_db


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_csv_import_with_error_report(tmp_path, capsys):
    path = tmp_path / "buyers.csv"
    _write_csv(
        path,
        [
            {
                "external_id": "B1",
                "name": "张三",
                "phone": "13800000001",
                "email": "a@example.com",
                "address": "上海市",
            },
            {"external_id": "B2", "name": "", "phone": "13800000002", "email": "", "address": ""},
            {"external_id": "B3", "name": "李四", "phone": "tel:123", "email": "", "address": ""},
            {"external_id": "B4", "name": "王五", "phone": "", "email": "not-an-email", "address": ""},
        ],
    )
    with pytest.raises(CommandError):
        call_command("import", "buyers", str(path))
    out = capsys.readouterr().out
    assert "1 created" in out and "3 failed" in out
    report = list(csv.DictReader((tmp_path / "buyers.csv.errors.csv").open(encoding="utf-8")))
    assert [(r["row"], r["external_id"], r["field"]) for r in report] == [
        ("2", "B2", "name"),
        ("3", "B3", "phone"),
        ("4", "B4", "email"),
    ]
    assert list(Buyer.objects.values_list("external_id", flat=True)) == ["B1"]
    # a second run of the corrected file is idempotent
    _write_csv(path, [{"external_id": "B1", "name": "张三丰", "phone": "", "email": "", "address": ""}])
    call_command("import", "buyers", str(path))
    assert Buyer.objects.get(external_id="B1").name == "张三丰"


def test_parquet_import_with_json_column(tmp_path):
    path = tmp_path / "categories.parquet"
    template = [
        {
            "key": "shelf_life_days",
            "label_zh": "保质期",
            "label_en": "Shelf life",
            "type": "int",
            "required": True,
        }
    ]
    table = pa.table(
        {
            "external_id": ["F01", "F02"],
            "parent_external_id": [None, "F01"],
            "name_zh": ["食品", "预包装食品"],
            "attribute_template": [json.dumps(template), "[]"],
            "no_reason_return": ["eligible", "eligible"],
        }
    )
    pq.write_table(table, path)
    call_command("import", "categories", str(path))
    assert Category.objects.get(external_id="F01").attribute_template == template
    assert Category.objects.get(external_id="F02").path == "/F01/F02/"


def test_unreadable_or_wrong_files_give_a_clear_error(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("hello")
    with pytest.raises(CommandError, match="csv or .parquet"):
        call_command("import", "buyers", str(bad))
    no_id = tmp_path / "x.csv"
    no_id.write_text("name\n张三\n")
    with pytest.raises(CommandError, match="external_id"):
        call_command("import", "buyers", str(no_id))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import", "buyers", str(tmp_path / "missing.csv"))
