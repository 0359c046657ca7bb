"""The shipped reply templates (快捷回复), from data/reply_templates.json."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "reply_templates.json"


def load(apps, schema_editor):
    ReplyTemplate = apps.get_model("complaints", "ReplyTemplate")
    for order, row in enumerate(json.loads(DATA.read_text(encoding="utf-8"))):
        ReplyTemplate.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "audience": row["audience"],
                "title_zh": row["title_zh"],
                "title_en": row["title_en"],
                "body_zh": row["body_zh"],
                "body_en": row["body_en"],
                "order": (order + 1) * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0009_reply_templates")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
