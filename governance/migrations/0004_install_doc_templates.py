from django.db import migrations


def install(apps, schema_editor):
    """Install the shipped templates (Model Card, EU AI Act Annex IV, SR 11-7) from their
    files. Later changes to the files are installed by `manage.py install_doc_templates
    --update`, which adds new template versions."""
    from governance.documents.shipped import shipped_templates

    DocumentTemplate = apps.get_model("governance", "DocumentTemplate")
    for shipped in shipped_templates():
        if not DocumentTemplate.objects.filter(name=shipped.name).exists():
            DocumentTemplate.objects.create(
                name=shipped.name, version=1, title=shipped.title, sections=shipped.sections
            )


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_documents")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
