"""The default SLA policies and complaint rules as editable rows."""

from django.db import migrations


def load(apps, schema_editor):
    from marketguard.complaints.sla import DEFAULT_POLICIES

    SlaPolicyRow = apps.get_model("complaints", "SlaPolicyRow")
    ComplaintRules = apps.get_model("complaints", "ComplaintRules")
    for policy in DEFAULT_POLICIES:
        SlaPolicyRow.objects.get_or_create(
            name=policy.name,
            defaults={"data": policy.to_dict(), "order": policy.order, "active": policy.active},
        )
    ComplaintRules.objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
