"""Uploaded imports: stored as an ``ImportJob`` row with its file in ``ImportPart`` pieces, run by a
Celery task, polled by the page.

The row is the durable record and the progress bar's source: the task writes
``done``/``total`` after every batch, the page reads them every second. A person
has one import waiting or running at a time (a database constraint, so racing
uploads cannot both start); one that stopped moving for ``STALLED_AFTER`` (its
worker died, its task was lost) is ended when the next one is started.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookmarks import services
from bookmarks.interchange.files import BookmarkFile, UnreadableFile
from bookmarks.models import ImportJob, ImportPart
from favsite.celery import app

logger = logging.getLogger(__name__)

MAX_MESSAGES = 50  # skipped/warning lines kept for the page
# The size of the pieces an upload is stored in (one row each).
PART_BYTES = 1024 * 1024
STALLED_AFTER = timedelta(minutes=30)
# By name: the task module imports this one.
IMPORT_TASK = "bookmarks.tasks.run_import_job"


class ImportRunning(Exception):
    """The person has an import waiting or running; ``job`` is that one."""

    def __init__(self, job: ImportJob):
        super().__init__(f"import {job.pk} is {job.state}")
        self.job = job


def start_import(
    user: AbstractBaseUser,
    file_name: str,
    chunks: Iterable[bytes],
    *,
    folders_as_tags: bool,
    fetch_missing_titles: bool = False,
) -> ImportJob:
    """Store the upload a piece at a time and queue the task once it is committed.

    ``ImportRunning`` when the person has an import waiting or running.
    """
    _end_stalled(user)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                owner=user,
                file_name=file_name[:255],
                folders_as_tags=folders_as_tags,
                fetch_missing_titles=fetch_missing_titles,
            )
            store_upload(job, chunks)
    except IntegrityError:
        running = ImportJob.objects.filter(owner=user, state__in=ImportJob.ACTIVE_STATES).first()
        if running is None:
            raise  # not the one-import constraint
        raise ImportRunning(running) from None
    transaction.on_commit(lambda: app.send_task(IMPORT_TASK, args=(job.pk,)))
    return job


def active_import(user: AbstractBaseUser) -> ImportJob | None:
    """The person's import waiting or running, if any (one that stalled is ended first)."""
    _end_stalled(user)
    return ImportJob.objects.filter(owner=user, state__in=ImportJob.ACTIVE_STATES).first()


def _end_stalled(user: AbstractBaseUser) -> None:
    ImportJob.objects.filter(
        owner=user, state__in=ImportJob.ACTIVE_STATES, updated_at__lt=timezone.now() - STALLED_AFTER
    ).update(state=ImportJob.State.FAILED, error="Stopped: no progress for 30 minutes.", finished_at=timezone.now())


def store_upload(job: ImportJob, chunks: Iterable[bytes]) -> None:
    """Write the file as parts of ``PART_BYTES``, holding one part at a time."""
    buffer = bytearray()
    number = 0
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= PART_BYTES:
            ImportPart.objects.create(job=job, number=number, data=bytes(buffer[:PART_BYTES]))
            del buffer[:PART_BYTES]
            number += 1
    if buffer:
        ImportPart.objects.create(job=job, number=number, data=bytes(buffer))


def stored_chunks(job_id: int) -> Iterator[bytes]:
    """The stored file's parts in order, read one query at a time."""
    numbers = list(ImportPart.objects.filter(job_id=job_id).order_by("number").values_list("number", flat=True))
    for number in numbers:
        yield bytes(ImportPart.objects.values_list("data", flat=True).get(job_id=job_id, number=number))


def run_job(job_id: int) -> str:
    """Run a queued job once: claimed with a conditional update, so a second delivery does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    try:
        file = BookmarkFile(lambda: stored_chunks(job_id))
        total = file.check()
        ImportJob.objects.filter(pk=job_id).update(total=total, updated_at=timezone.now())

        def progress(done: int, total: int) -> None:
            ImportJob.objects.filter(pk=job_id).update(done=done, total=total, updated_at=timezone.now())

        result = services.import_bookmarks(
            job.owner,
            file.entries(),
            folders_as_tags=job.folders_as_tags,
            fetch_missing_titles=job.fetch_missing_titles,
            progress=progress,
            total=total,
        )
    except UnreadableFile as exc:
        _finish(job_id, state=ImportJob.State.FAILED, error=str(exc))
        return "failed"
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        _finish(job_id, state=ImportJob.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    lines = [f"skipped {url}: {reason}" for url, reason in result.skipped]
    lines += [f"{url}: {message}" for url, message in result.warnings]
    _finish(
        job_id,
        state=ImportJob.State.DONE,
        created=result.created,
        updated=result.updated,
        skipped=result.skipped_count,
        messages=lines[:MAX_MESSAGES],
    )
    return "done"


def _finish(job_id: int, **fields) -> None:
    # The upload is not needed any more; keep the table small.
    ImportPart.objects.filter(job_id=job_id).delete()
    ImportJob.objects.filter(pk=job_id).update(finished_at=timezone.now(), updated_at=timezone.now(), **fields)
