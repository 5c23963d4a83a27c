from celery import shared_task

from testsessions import models


@shared_task
def delete_expired() -> int:
    return models.delete_expired()
