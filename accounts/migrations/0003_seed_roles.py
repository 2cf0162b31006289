from django.db import migrations


def seed_roles(apps, schema_editor):
    from accounts.constants import ROLE_DEFAULTS

    Role = apps.get_model("accounts", "Role")
    for name, defaults in ROLE_DEFAULTS.items():
        Role.objects.get_or_create(name=str(name), defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles_tokens_login_events")]

    operations = [migrations.RunPython(seed_roles, migrations.RunPython.noop)]
