"""The default business calendar (Asia/Shanghai, Mon–Fri 9:00–18:00, PRC holidays) and the
database triggers that make the audit trail append-only."""

import json
from pathlib import Path

from django.db import migrations

HOURS = [[["09:00", "18:00"]]] * 5 + [[], []]

PG_GUARD = """
CREATE OR REPLACE FUNCTION mg_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
FOR EACH ROW EXECUTE FUNCTION mg_audit_append_only();
"""
PG_UNGUARD = """
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS mg_audit_append_only();
"""
# SQLite: UPDATE only. Test-database flushes on SQLite use DELETE, and a deleted row is found by
# `audit verify` anyway (a gap in the sequence or a chain head that points past the last row).
SQLITE_GUARD = """
CREATE TRIGGER IF NOT EXISTS core_auditentry_append_only BEFORE UPDATE ON core_auditentry
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""
SQLITE_UNGUARD = "DROP TRIGGER IF EXISTS core_auditentry_append_only;"


def guard(apps, schema_editor):
    sql = PG_GUARD if schema_editor.connection.vendor == "postgresql" else SQLITE_GUARD
    schema_editor.execute(sql)


def unguard(apps, schema_editor):
    sql = PG_UNGUARD if schema_editor.connection.vendor == "postgresql" else SQLITE_UNGUARD
    for statement in filter(None, (s.strip() for s in sql.split(";"))):
        schema_editor.execute(statement)


def default_calendar(apps, schema_editor):
    CalendarConfig = apps.get_model("core", "CalendarConfig")
    CalendarDay = apps.get_model("core", "CalendarDay")
    data = json.loads(
        (Path(__file__).resolve().parent.parent / "data" / "holidays_cn.json").read_text("utf-8")
    )
    calendar, _ = CalendarConfig.objects.get_or_create(
        name="cn-default",
        defaults={
            "timezone": "Asia/Shanghai",
            "hours": HOURS,
            "workday_hours": [["09:00", "18:00"]],
            "is_default": True,
        },
    )
    rows = []
    for year in data["years"].values():
        for holiday in year["holidays"]:
            for day in holiday["dates"]:
                rows.append(
                    CalendarDay(
                        calendar=calendar,
                        date=day,
                        kind="holiday",
                        name_zh=holiday.get("name_zh", ""),
                        name_en=holiday.get("name_en", ""),
                    )
                )
        for day in year["workdays"]:
            rows.append(
                CalendarDay(
                    calendar=calendar,
                    date=day,
                    kind="workday",
                    name_zh="调休上班",
                    name_en="Adjusted working day",
                )
            )
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    CalendarConfig.objects.get_or_create(
        name="24x7",
        defaults={
            "timezone": "Asia/Shanghai",
            "hours": [[["00:00", "24:00"]]] * 7,
            "workday_hours": [],
            "is_default": False,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(default_calendar, migrations.RunPython.noop),
        migrations.RunPython(guard, unguard),
    ]
