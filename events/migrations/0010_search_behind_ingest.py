import django.db.models.deletion
from django.db import migrations, models

# Search moves out of events_event into its own table, filled behind ingest
# (events/search.py): the trigram index cost ingest's INSERT a third of
# PostgreSQL's CPU per webhook and, with every merge of its pending list,
# the p99 of every answer in that batch. Existing rows keep their text.
OLD_INDEX = "event_search_trgm"
TRIGRAM_INDEX = "eventsearch_text_trgm"
# As for the old index (0009): merges of the pending list in small steps,
# and a search never reads more than this of unmerged entries.
PENDING_LIST_KB = 512


def create_trigram_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON events_eventsearch USING gin (text gin_trgm_ops) "
            f"WITH (gin_pending_list_limit = {PENDING_LIST_KB})"
        )


def drop_trigram_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


# Django deletes an event's search row and then the event, in two
# statements; an indexer committing between them would fail a deferred
# foreign key. Here the database cascades instead, and the indexer's INSERT
# checks at once (it retries without an event deleted under it).
FOREIGN_KEY = "eventsearch_event_cascade"


def add_cascading_key(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE events_eventsearch ADD CONSTRAINT {FOREIGN_KEY} FOREIGN KEY (event_id) "
            "REFERENCES events_event (id) ON DELETE CASCADE"
        )


def drop_cascading_key(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE events_eventsearch DROP CONSTRAINT IF EXISTS {FOREIGN_KEY}")


def restore_old_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON events_event USING gin (search_text gin_trgm_ops) "
            f"WITH (gin_pending_list_limit = {PENDING_LIST_KB})"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0009_trigram_pending_list"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventSearch",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                        related_name="search", serialize=False, to="events.event",
                    ),
                ),
                ("text", models.TextField(blank=True, default="")),
            ],
        ),
        migrations.RunPython(add_cascading_key, drop_cascading_key),
        migrations.CreateModel(
            name="SearchBacklog",
            fields=[
                ("event_id", models.BigIntegerField(primary_key=True, serialize=False)),
            ],
        ),
        # Backwards, the old index is built after the text is back (below).
        migrations.RunPython(migrations.RunPython.noop, restore_old_index),
        migrations.RunSQL(
            "INSERT INTO events_eventsearch (event_id, text) SELECT id, search_text FROM events_event",
            "UPDATE events_event SET search_text = events_eventsearch.text FROM events_eventsearch "
            "WHERE events_eventsearch.event_id = events_event.id",
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        # Dropping the column drops its index.
        migrations.RemoveField(
            model_name="event",
            name="search_text",
        ),
        # Events an older server stored after the copy above (dropping the
        # column waited for them) go to the indexer.
        migrations.RunSQL(
            "INSERT INTO events_searchbacklog (event_id) SELECT id FROM events_event event WHERE NOT EXISTS "
            "(SELECT 1 FROM events_eventsearch search WHERE search.event_id = event.id)",
            migrations.RunSQL.noop,
        ),
    ]
