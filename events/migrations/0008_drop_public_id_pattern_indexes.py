from django.db import migrations

# PostgreSQL gets a second, varchar_pattern_ops index beside the unique one
# for every unique CharField, for LIKE 'prefix%' lookups. Public ids are
# only ever looked up whole, and events and attempts are the hottest inserts
# and updates there are: each row version paid for an index nobody reads.
TABLES = [("events_event", "public_id"), ("deliveries_deliveryattempt", "public_id")]


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TABLES:
        name = schema_editor._create_index_name(table, [column], suffix="_like")
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TABLES:
        name = schema_editor._create_index_name(table, [column], suffix="_like")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON {table} ({column} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0007_event_due_is_pending"),
        ("deliveries", "0003_delivery_attempt_one_off"),
    ]

    operations = [migrations.RunPython(drop, create)]
