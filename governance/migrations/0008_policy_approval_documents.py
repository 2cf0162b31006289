from django.db import migrations, models

import governance.models.policy

# The descriptions shipped before documents were required; a description an administrator
# wrote is left alone.
OLD_DESCRIPTIONS = {
    "low": "Internal, low-impact models: one independent sign-off, revalidate every two years.",
    "medium": "One independent sign-off, open findings block approval, yearly revalidation.",
    "high": "Two independent sign-offs, open findings block approval, yearly revalidation.",
    "critical": "Three independent sign-offs, open findings block approval, revalidation every "
    "six months.",
}


def require_documents(apps, schema_editor):
    """Existing policies take the shipped document requirements (the model card for every tier,
    the validation report for high and critical): an administrator may relax them in the admin,
    where the change is on the record."""
    from governance.constants import DEFAULT_POLICIES

    Policy = apps.get_model("governance", "Policy")
    for policy in Policy.objects.all():
        defaults = DEFAULT_POLICIES.get(policy.risk_tier)
        if defaults is None:
            continue
        policy.approval_documents = list(defaults["approval_documents"])
        if policy.description == OLD_DESCRIPTIONS.get(policy.risk_tier):
            policy.description = defaults["description"]
        policy.save(update_fields=["approval_documents", "description"])


class Migration(migrations.Migration):
    dependencies = [("governance", "0007_documents_references")]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="approval_documents",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Documentation templates whose written sections (by the developers, "
                "the validators, the approvers) must all be written before approval.",
                validators=[governance.models.policy.validate_document_names],
            ),
        ),
        migrations.AlterField(
            model_name="policy",
            name="required_documents",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Documentation templates that must exist and be current from "
                "submission on.",
                validators=[governance.models.policy.validate_document_names],
            ),
        ),
        migrations.RunPython(require_documents, migrations.RunPython.noop),
    ]
