"""What `q` searches, and the indexer that fills it behind ingest.

An event's search text is its header values and the first 64 KiB of its
body as text, in `EventSearch` under a trigram index (PostgreSQL). Ingest's
INSERT on PostgreSQL (events/store.py) only adds the new ids to
`SearchBacklog`; `index_backlog`, run by beat every second on a worker
(config/settings.py), turns them into search rows in batches. A webhook is
searchable about a second after its answer, and the sender's answer never
waits for the trigram index. Events made anywhere else (the ORM store,
edited replays) are indexed by `index` in the transaction that creates them.
"""

import logging
import time
from collections.abc import Iterable

import orjson
from django.db import IntegrityError, connection, transaction

from events.models import Event, EventSearch, SearchBacklog

log = logging.getLogger(__name__)

# Search covers header values and this much of the body: enough for nearly
# every webhook, and it bounds what the trigram index costs each row.
SEARCH_BODY_BYTES = 64 * 1024
BATCH = 1000
# Events read and written at a time within a batch: at most this many
# bodies' first 64 KiB (31 MiB) and their text are in memory at once.
SLICE = 500
# One run stops taking batches after this long; the next run goes on.
RUN_SECONDS = 2.0


def text_of(headers: list[list[str]], body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a cut UTF-8 sequence at the end is dropped.
    text = bytes(body[:SEARCH_BODY_BYTES]).decode("utf-8", "ignore")
    values = "\n".join(value for _, value in headers)
    return f"{values}\n{text}".replace("\x00", "")


def index(events: Iterable[Event]) -> None:
    """Search rows for saved events, in the caller's transaction."""
    EventSearch.objects.bulk_create(EventSearch(event_id=e.pk, text=text_of(e.headers, e.body)) for e in events)


# Ingest's backlog is PostgreSQL's alone (store_sync and replays index at
# once), so the indexer speaks its SQL: a third of the CPU per event that
# the ORM's values_list and bulk_create cost.
#
# One indexer at a time, whichever worker beat's tick reaches: a run that
# finds another one holding this lock leaves the backlog to it, so indexing
# never takes more than one worker thread.
_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('hookline.search.index'))"
_TAKE = (
    f"DELETE FROM {SearchBacklog._meta.db_table} WHERE event_id IN ("
    f"SELECT event_id FROM {SearchBacklog._meta.db_table} ORDER BY event_id LIMIT %s) "
    "RETURNING event_id"
)
_READ = f"SELECT id, headers, substring(body FROM 1 FOR {SEARCH_BODY_BYTES}) FROM {Event._meta.db_table} WHERE id = ANY(%s)"
_WRITE = (
    f"INSERT INTO {EventSearch._meta.db_table} (event_id, text) SELECT * FROM unnest(%s::bigint[], %s::text[]) "
    "ON CONFLICT (event_id) DO NOTHING"  # an event indexed twice keeps one row
)


def index_batch(size: int = BATCH) -> int:
    """Takes up to `size` ids off the backlog and indexes the events that
    still exist, in one transaction; returns how many ids it took (0 also
    while another indexer runs)."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK)
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(_TAKE, [size])
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        for start in range(0, len(ids), SLICE):
            cursor.execute(_READ, [ids[start:start + SLICE]])
            pks, texts = [], []
            for pk, headers, body in cursor.fetchall():
                pks.append(pk)
                texts.append(text_of(orjson.loads(headers), body))  # Django reads jsonb as its text
            cursor.execute(_WRITE, [pks, texts])
    return len(ids)


def index_backlog(size: int = BATCH, seconds: float = RUN_SECONDS) -> int:
    """Batches until the backlog is empty or `seconds` have passed; returns
    how many backlog ids were taken."""
    taken = 0
    deadline = time.monotonic() + seconds
    while True:
        try:
            done = index_batch(size)
        except IntegrityError:
            # An event deleted between our read and our INSERT (retention,
            # an endpoint's deletion): the batch is rolled back and taken
            # again, without it, by the next pass. (Deleting the other way
            # round is the database's to cascade: see migration 0010.)
            log.info("search: an event of the batch was deleted meanwhile; the next pass takes it again")
            return taken
        taken += done
        if done < size or time.monotonic() >= deadline:
            return taken
