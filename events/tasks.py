from celery import shared_task

from events import search


@shared_task(ignore_result=True)
def index_search() -> int:
    """Beat's tick for the search indexer (events/search.py)."""
    return search.index_backlog()
