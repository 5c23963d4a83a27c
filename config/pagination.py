"""Page-number pagination that refuses what its schema calls invalid."""

from django.core.paginator import Paginator
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    def get_page_number(self, request: Request, paginator: Paginator) -> int | str:
        raw = request.query_params.get(self.page_query_param)
        # DRF reads "" as page 1; the schema says `page` is an integer.
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise NotFound("Invalid page.")
        return super().get_page_number(request, paginator)
