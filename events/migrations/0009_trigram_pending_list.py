from django.db import migrations

# The trigram index takes new rows into its pending list and merges that list
# into the index once it outgrows gin_pending_list_limit (4 MB by default),
# inside whichever INSERT crosses the line. At ingest rates that INSERT holds
# its whole batch for tens of milliseconds every few seconds: the p99 of
# every answer waiting on it. At 512 kB the merges are eight times as
# frequent and each about an eighth as long; Postgres CPU per webhook stayed
# within the noise (make bench, wrk -c32: p99 50-63 ms -> 20-29 ms).
TRIGRAM_INDEX = "event_search_trgm"
PENDING_LIST_KB = 512


def set_limit(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {TRIGRAM_INDEX} SET (gin_pending_list_limit = {PENDING_LIST_KB})")


def reset_limit(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {TRIGRAM_INDEX} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0008_drop_public_id_pattern_indexes"),
    ]

    operations = [migrations.RunPython(set_limit, reset_limit)]
