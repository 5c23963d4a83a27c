from django.db import migrations, models

# Every event row is updated two or three times within seconds (claim, then
# the attempt's result), and each update leaves a dead entry in the claim
# index until a vacuum: vacuum and analyze after 2 % of the table changed
# instead of PostgreSQL's default 20 %, so claims stay cheap under load.
VACUUM_OFTEN = (
    "ALTER TABLE events_event SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,"
    " autovacuum_vacuum_insert_scale_factor = 0.02)"
)
VACUUM_DEFAULT = (
    "ALTER TABLE events_event RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor,"
    " autovacuum_vacuum_insert_scale_factor)"
)


def vacuum_often(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(VACUUM_OFTEN)


def vacuum_default(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(VACUUM_DEFAULT)


class Migration(migrations.Migration):

    dependencies = [
        ("endpoints", "0006_endpoint_retention_days"),
        ("events", "0006_claim_due_per_endpoint"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(("next_attempt_at__isnull", True), ("status__in", ["received", "retrying"]), _connector="OR"),
                name="event_due_is_pending",
            ),
        ),
        migrations.RunPython(vacuum_often, vacuum_default),
    ]
