from django.db import migrations


def create_policies(apps, schema_editor):
    from governance.constants import DEFAULT_POLICIES

    Policy = apps.get_model("governance", "Policy")
    for tier, values in DEFAULT_POLICIES.items():
        Policy.objects.get_or_create(risk_tier=str(tier), defaults=values)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
