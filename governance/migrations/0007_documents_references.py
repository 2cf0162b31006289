from django.db import migrations, models


def install_updated_templates(apps, schema_editor):
    """Add a new version of each shipped template whose file changed (free-text sections now
    name the role that writes them). Documents keep the versions they were rendered from."""
    from governance.documents.shipped import shipped_templates

    DocumentTemplate = apps.get_model("governance", "DocumentTemplate")
    for shipped in shipped_templates():
        current = DocumentTemplate.objects.filter(name=shipped.name).order_by("-version").first()
        if current is None or current.sections == shipped.sections:
            continue
        DocumentTemplate.objects.create(
            name=shipped.name,
            version=current.version + 1,
            title=shipped.title,
            description=current.description,
            sections=shipped.sections,
        )


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_reclassify")]

    operations = [
        migrations.AddField(
            model_name="generateddocument",
            name="references",
            field=models.JSONField(blank=True, default=None, null=True),
        ),
        migrations.RunPython(install_updated_templates, migrations.RunPython.noop),
    ]
