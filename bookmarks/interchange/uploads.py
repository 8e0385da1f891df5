"""Keeping an import upload within ``IMPORT_MAX_BYTES`` before and while it arrives.

Two checks, because a client may not say how large its upload is (chunked
transfer) or may say less than it sends:

1. ``declared_too_large``: the request's ``Content-Length`` is read before the
   body, so an honest large upload is refused without receiving it.
2. ``CappedUploadHandler`` counts the file's bytes as Django's multipart parser
   hands them over and stops the upload once the cap is passed: the rest of the
   body is not read, and the part already received is dropped with the
   temporary file that held it.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

# Room in the request for the form's other fields and the multipart boundaries.
FORM_OVERHEAD_BYTES = 64 * 1024


def declared_too_large(request: HttpRequest, max_bytes: int) -> bool:
    """Whether the request says it carries more than a file of ``max_bytes`` and the form around it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django itself treats an unreadable length as none
    return declared > max_bytes + FORM_OVERHEAD_BYTES


class CappedUploadHandler(FileUploadHandler):
    """Passes file data on to the next handlers until ``max_bytes`` are passed, then stops the upload.

    Put first in ``request.upload_handlers``; ``refused`` tells the view afterwards.
    """

    def __init__(self, request: HttpRequest, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.refused = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.max_bytes:
            self.refused = True
            # connection_reset: do not read the rest of the body (it may never end).
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file
