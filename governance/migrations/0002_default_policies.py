from django.db import migrations


def create_policies(apps, schema_editor):
    from governance.constants import DEFAULT_POLICIES

    Policy = apps.get_model("governance", "Policy")
    # The defaults grow with later migrations; this one sets only the fields it knows.
    known = {field.name for field in Policy._meta.get_fields()}
    for tier, values in DEFAULT_POLICIES.items():
        defaults = {name: value for name, value in values.items() if name in known}
        Policy.objects.get_or_create(risk_tier=str(tier), defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
