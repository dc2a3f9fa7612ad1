"""A cap on file uploads that holds while the request is being received.

Django spools an upload to a temporary file before any view runs, so a check in the view comes after a
2 GB file has landed on disk. This handler, installed first for every multipart request by
UploadLimitMiddleware, refuses a body announced as too large without reading it, and stops receiving a
file as soon as it passes the limit; the request is then marked so the view (or the API) can say why.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

FORM_SLACK = 1 << 20  # the other fields and the multipart boundaries around the file


class CappedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def handle_raw_input(self, input_data: Any, META: dict, content_length: int, boundary: bytes,
                         encoding: str | None = None) -> tuple[QueryDict, MultiValueDict] | None:
        if content_length and content_length > self.limit + FORM_SLACK:
            self.request.upload_too_large = content_length
            return QueryDict(encoding=encoding), MultiValueDict()  # nothing read, nothing stored
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = self.received
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_limit() -> int:
    return settings.IMPORT_MAX_BYTES


def refused_size(request: HttpRequest) -> int | None:
    """The size the cap refused (what was announced or received so far), or None."""
    return getattr(request, "upload_too_large", None)


class UploadLimitMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if request.method in ("POST", "PUT", "PATCH") and request.content_type == "multipart/form-data":
            request.upload_handlers.insert(0, CappedUploadHandler(request, upload_limit()))
        return self.get_response(request)
