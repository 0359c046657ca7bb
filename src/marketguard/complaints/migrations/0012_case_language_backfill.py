"""Cases filed before languages were recorded get the language their complaint is written in
(the rule intake applied on the day this migration was written, copied here so that a later
change of that rule does not change what this migration did), so that mail to those consumers
stops coming in both languages. One transaction per batch: no long-held locks on a large table."""

import re

from django.db import migrations, transaction

BATCH = 2000
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def written_in(text: str) -> str:
    han = len(_HAN.findall(text)) / 1.5
    latin = len(_LATIN_WORD.findall(text))
    if not han + latin:
        return ""
    share = han / (han + latin)
    return "zh-hans" if share >= 0.6 else "en" if share <= 0.3 else ""


def backfill(apps, schema_editor):
    Case = apps.get_model("complaints", "Case")
    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                Case.objects.filter(pk__gt=last, language="")
                .order_by("pk")
                .only("pk", "title", "description")[:BATCH]
            )
            if not rows:
                return
            for case in rows:
                case.language = written_in(f"{case.title}\n{case.description}")
            Case.objects.bulk_update(rows, ["language"], batch_size=500)
        last = rows[-1].pk


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("complaints", "0011_case_language")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
