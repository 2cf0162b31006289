"""The prediction log partitioned by time on PostgreSQL (a no-op on SQLite), the unique
request-id keys beside it, and each deployment's retention and legal hold."""

import django.db.models.deletion
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import migrations, models


def partition(apps, schema_editor):
    from monitoring.partitions import partitioning_install

    partitioning_install(schema_editor)


def unpartition(apps, schema_editor):
    from monitoring.partitions import partitioning_remove

    partitioning_remove(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_prediction_numeric_inputs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deployment",
            name="retention_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Days its predictions are kept; empty for the global "
                "STEWARD_PREDICTION_RETENTION_DAYS (and kept forever when that is unset too).",
                null=True,
                validators=[MinValueValidator(1)],
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="legal_hold",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="deployment",
            name="legal_hold_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="deployment",
            name="legal_hold_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="legal_hold_reason",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.CreateModel(
            name="PredictionKey",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "deployment",
                        "request_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("request_id", models.CharField(max_length=128)),
                ("predicted_at", models.DateTimeField()),
                (
                    "deployment",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="monitoring.deployment",
                    ),
                ),
            ],
            options={
                "db_table": "monitoring_prediction_key",
                "indexes": [models.Index(fields=["predicted_at"], name="prediction_key_time")],
            },
        ),
        migrations.CreateModel(
            name="PredictionPartition",
            fields=[("name", models.CharField(max_length=63, primary_key=True, serialize=False))],
            options={
                "verbose_name": "prediction log partition",
                "db_table": "monitoring_prediction_partition_view",
                "managed": False,
            },
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
