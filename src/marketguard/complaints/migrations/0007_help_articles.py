"""The shipped answers of the smart customer service, from data/help_articles.json."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "help_articles.json"


def load(apps, schema_editor):
    HelpArticle = apps.get_model("complaints", "HelpArticle")
    for order, row in enumerate(json.loads(DATA.read_text(encoding="utf-8"))):
        HelpArticle.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "title_zh": row["title_zh"],
                "title_en": row["title_en"],
                "body_zh": row["body_zh"],
                "body_en": row["body_en"],
                "keywords": "\n".join(row.get("keywords") or []),
                "problem_type": row.get("problem_type") or "",
                "kind": row.get("kind") or "",
                "order": (order + 1) * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0006_assistant")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
