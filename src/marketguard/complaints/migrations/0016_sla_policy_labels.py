"""Labels for the shipped SLA policies already in the database (people at work read these, not
the policy codes). Frozen here as shipped; rows an admin renamed or labelled are left alone."""

from django.db import migrations

LABELS = {
    "p1_personal_safety": ("人身安全（P1）", "Personal safety (P1)"),
    "p2_high": ("高优先级（P2）", "High priority (P2)"),
    "refund_only": ("仅退款", "Refund only"),
    "default": ("默认", "Default"),
}


def label(apps, schema_editor):
    SlaPolicyRow = apps.get_model("complaints", "SlaPolicyRow")
    for row in SlaPolicyRow.objects.filter(name__in=LABELS):
        data = dict(row.data) if isinstance(row.data, dict) else None
        if data is None or data.get("label_zh") or data.get("label_en"):
            continue
        data["label_zh"], data["label_en"] = LABELS[row.name]
        row.data = data
        row.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("complaints", "0015_return_pause_remedy")]
    operations = [migrations.RunPython(label, migrations.RunPython.noop)]
