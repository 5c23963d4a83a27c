from celery import shared_task

from accounts import tokens


@shared_task
def delete_expired_tokens() -> int:
    return tokens.delete_expired_tokens()
