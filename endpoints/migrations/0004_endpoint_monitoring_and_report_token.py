from django.db import migrations, models

import endpoints.models


def give_report_tokens(apps, schema_editor) -> None:
    Endpoint = apps.get_model("endpoints", "Endpoint")
    for endpoint in Endpoint.objects.filter(report_token__isnull=True).only("pk"):
        Endpoint.objects.filter(pk=endpoint.pk).update(report_token=endpoints.models.new_report_token())


class Migration(migrations.Migration):
    dependencies = [("endpoints", "0003_endpoint_owner_optional_for_test_sessions")]

    operations = [
        migrations.AddField(
            model_name="endpoint",
            name="paused_reason",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.AddField(
            model_name="endpoint",
            name="monitoring",
            field=models.JSONField(default=endpoints.models.default_monitoring),
        ),
        # Nullable first: existing rows each need their own random token.
        migrations.AddField(
            model_name="endpoint",
            name="report_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(give_report_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="endpoint",
            name="report_token",
            field=models.CharField(
                default=endpoints.models.new_report_token, editable=False, max_length=64, unique=True
            ),
        ),
    ]
