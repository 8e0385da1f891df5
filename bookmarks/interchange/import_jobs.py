"""Uploaded imports: stored as an ``ImportJob`` row, run by a Celery task, polled by the page.

The row is the durable record and the progress bar's source: the task writes
``done``/``total`` after every batch, the page reads them every second.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from bookmarks import services
from bookmarks.interchange.files import UnreadableFile, read_bookmark_file
from bookmarks.models import ImportJob
from favsite.celery import app

logger = logging.getLogger(__name__)

MAX_MESSAGES = 50  # skipped/warning lines kept for the page
# By name: the task module imports this one.
IMPORT_TASK = "bookmarks.tasks.run_import_job"


def start_import(
    user: AbstractBaseUser, file_name: str, content: bytes, *, folders_as_tags: bool, fetch_missing_titles: bool = False
) -> ImportJob:
    """Store the upload and queue the task once the row is committed."""
    job = ImportJob.objects.create(
        owner=user,
        file_name=file_name[:255],
        content=content,
        folders_as_tags=folders_as_tags,
        fetch_missing_titles=fetch_missing_titles,
    )
    transaction.on_commit(lambda: app.send_task(IMPORT_TASK, args=(job.pk,)))
    return job


def run_job(job_id: int) -> str:
    """Run a queued job once: claimed with a conditional update, so a second delivery does nothing."""
    if not ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(state=ImportJob.State.RUNNING):
        return "skipped"
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    try:
        entries = read_bookmark_file(bytes(job.content))
        ImportJob.objects.filter(pk=job_id).update(total=len(entries))

        def progress(done: int, total: int) -> None:
            ImportJob.objects.filter(pk=job_id).update(done=done, total=total)

        result = services.import_bookmarks(
            job.owner,
            entries,
            folders_as_tags=job.folders_as_tags,
            fetch_missing_titles=job.fetch_missing_titles,
            progress=progress,
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
        skipped=len(result.skipped),
        messages=lines[:MAX_MESSAGES],
    )
    return "done"


def _finish(job_id: int, **fields) -> None:
    # The upload is not needed any more; keep the row small.
    ImportJob.objects.filter(pk=job_id).update(content=b"", finished_at=timezone.now(), **fields)
