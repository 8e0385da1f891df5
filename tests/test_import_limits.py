"""Imports stay bounded: the size cap before and while a file arrives, one import at a time per
person, and files read a piece at a time (issue 21, 3.3)."""

from __future__ import annotations

import copy
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.db import IntegrityError, transaction
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django.utils import timezone

from bookmarks import services
from bookmarks.interchange import netscape, pinboard_json
from bookmarks.interchange.files import BookmarkFile, read_bookmark_file
from bookmarks.interchange.import_jobs import PART_BYTES, ImportRunning, run_job, start_import, stored_chunks
from bookmarks.interchange.uploads import CappedUploadHandler
from bookmarks.models import Bookmark, ImportJob, ImportPart
from bookmarks.services import importing

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "netscape"
IMPORT_URL = reverse("bookmarks:import")


def netscape_file(count: int, *, first: int = 0, tags: str = "") -> bytes:
    lines = [netscape.HEADER]
    for n in range(first, first + count):
        lines.append(f'<DT><A HREF="https://example.com/{n}" ADD_DATE="1700000000" TAGS="{tags}">Page {n}</A>\n')
    lines.append(netscape.FOOTER)
    return "".join(lines).encode()


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    readinto = read


# -- the size cap -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_declaring_more_than_the_cap_is_refused_before_its_body_is_read(alice_client, settings):
    settings.IMPORT_MAX_BYTES = 2048
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("big.html", b"<DT>")})
    response = alice_client.generic(
        "POST",
        IMPORT_URL,
        body,
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(300 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    assert "The file is larger than 2.0\xa0KB" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_file_passing_the_cap_as_it_arrives_is_refused_and_nothing_is_stored(alice_client, settings):
    settings.IMPORT_MAX_BYTES = 2048
    upload = SimpleUploadedFile("big.html", netscape_file(200))  # within the form's slack, over the cap
    response = alice_client.post(IMPORT_URL, {"file": upload})
    assert response.status_code == 413
    assert 'name="file"' in response.content.decode()  # the form, shown again
    assert "The file is larger than 2.0\xa0KB" in response.content.decode()
    assert not ImportJob.objects.exists() and not ImportPart.objects.exists()


def test_the_capped_handler_passes_data_on_until_the_cap_then_stops_reading_the_body():
    handler = CappedUploadHandler(None, max_bytes=10)
    assert handler.receive_data_chunk(b"12345678", 0) == b"12345678"
    with pytest.raises(StopUpload) as stopped:
        handler.receive_data_chunk(b"12345678", 8)
    assert stopped.value.connection_reset and handler.refused


@pytest.mark.django_db
def test_a_file_within_the_cap_is_stored_in_parts_of_a_megabyte_and_read_back_whole(user):
    data = netscape_file(40_000)  # about 3 MB
    job = start_import(user, "b.html", [data[i : i + 65536] for i in range(0, len(data), 65536)], folders_as_tags=False)
    sizes = list(ImportPart.objects.filter(job=job).order_by("number").values_list("number", flat=True))
    assert len(sizes) == -(-len(data) // PART_BYTES)
    assert b"".join(stored_chunks(job.pk)) == data


# -- one import at a time -------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_upload_while_one_waits_is_refused_with_a_link_to_its_progress(alice_client, user):
    first = start_import(user, "first.html", [netscape_file(3)], folders_as_tags=False)
    response = alice_client.post(IMPORT_URL, {"file": SimpleUploadedFile("second.html", netscape_file(2))})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your import of first.html is not finished yet" in page
    assert reverse("bookmarks:import_job", args=[first.pk]) in page
    assert list(ImportJob.objects.values_list("file_name", flat=True)) == ["first.html"]


@pytest.mark.django_db
def test_starting_a_second_import_names_the_running_one_even_past_the_pages_check(user):
    first = start_import(user, "first.html", [netscape_file(3)], folders_as_tags=False)
    ImportJob.objects.filter(pk=first.pk).update(state=ImportJob.State.RUNNING)
    with pytest.raises(ImportRunning) as refused:
        start_import(user, "second.html", [netscape_file(2)], folders_as_tags=False)
    assert refused.value.job.pk == first.pk
    assert ImportJob.objects.count() == 1 and not ImportPart.objects.exclude(job=first).exists()


@pytest.mark.django_db
def test_the_database_holds_one_waiting_or_running_import_per_person(user, other_user):
    ImportJob.objects.create(owner=user, state=ImportJob.State.RUNNING)
    ImportJob.objects.create(owner=other_user, state=ImportJob.State.QUEUED)
    ImportJob.objects.create(owner=user, state=ImportJob.State.DONE)
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportJob.objects.create(owner=user, state=ImportJob.State.QUEUED)


@pytest.mark.django_db
def test_a_finished_import_does_not_hold_back_the_next(user):
    first = start_import(user, "first.html", [netscape_file(3)], folders_as_tags=False)
    assert run_job(first.pk) == "done"
    assert start_import(user, "second.html", [netscape_file(2)], folders_as_tags=False).state == "queued"


@pytest.mark.django_db
def test_an_import_that_stopped_moving_is_ended_when_the_next_starts(user):
    stalled = start_import(user, "first.html", [netscape_file(3)], folders_as_tags=False)
    ImportJob.objects.filter(pk=stalled.pk).update(
        state=ImportJob.State.RUNNING, updated_at=timezone.now() - timedelta(hours=1)
    )
    start_import(user, "second.html", [netscape_file(2)], folders_as_tags=False)
    stalled.refresh_from_db()
    assert (stalled.state, stalled.error) == ("failed", "Stopped: no progress for 30 minutes.")


# -- reading a piece at a time ----------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CONFORMANCE.glob("*.htm*")), ids=lambda path: path.name)
def test_a_file_read_in_small_pieces_gives_the_bookmarks_it_gives_read_whole(path):
    text = netscape.decode(path.read_bytes())
    now = timezone.now()
    whole = netscape.parse(text, now=now)
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    # Copied as each is handed over: an importer reads a bookmark when it gets it, not at the end.
    assert [copy.deepcopy(entry) for entry in netscape.parse_stream(pieces, now=now, segment_chars=50)] == whole


def test_a_pinboard_export_read_in_small_pieces_gives_every_post():
    posts = [{"href": f"https://example.com/{n}", "description": f"T{n}", "tags": "a b", "time": ""} for n in range(50)]
    text = json.dumps([1, *posts, None])
    pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
    assert [copy.deepcopy(entry) for entry in pinboard_json.parse_stream(pieces)] == pinboard_json.parse(text)


def test_a_windows_1252_file_is_recognised_by_a_byte_past_its_first_piece():
    data = netscape_file(2000) + '<DT><A HREF="https://example.com/caf\xe9">Caf\xe9</A>'.encode("cp1252")
    file = BookmarkFile(lambda: (data[i : i + 4096] for i in range(0, len(data), 4096)))
    assert file.check() == 2001
    assert [entry.title for entry in file.entries()][-1] == "Café"


@pytest.mark.django_db
def test_a_file_larger_than_a_batch_is_saved_batch_by_batch_merging_repeats(user, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 3)
    data = netscape_file(5, tags="a") + netscape_file(2, tags="b")  # /0 and /1 again, in a later batch
    seen = []
    result = services.import_bookmarks(user, read_bookmark_file(data), progress=lambda d, t: seen.append((d, t)))
    assert (result.created, result.updated) == (5, 2)
    assert sorted(Bookmark.objects.get(url="https://example.com/0").tags.values_list("name", flat=True)) == ["a", "b"]
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]


@pytest.mark.django_db
def test_a_file_that_is_not_json_fails_before_anything_is_saved(user):
    posts = json.dumps([{"href": f"https://example.com/{n}"} for n in range(3)]).encode()
    job = start_import(user, "broken.json", [posts[:-1] + b", oops]"], folders_as_tags=False)
    assert run_job(job.pk) == "failed"
    assert not Bookmark.objects.exists()
    assert "not a Pinboard export" in ImportJob.objects.get(pk=job.pk).error


@pytest.mark.django_db
def test_an_upload_without_the_csrf_token_is_still_refused(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(IMPORT_URL, {"file": SimpleUploadedFile("b.html", netscape_file(2))})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_uploaded_file_keeps_each_bookmarks_description_as_its_note(user):
    data = (
        b'<DL><DT><A HREF="https://example.com/a">A</A>\n<DD>About a\n'
        b'<DT><A HREF="https://example.com/b">B</A>\n<DD>About b\n</DL>'
    )
    job = start_import(user, "notes.html", [data], folders_as_tags=False)
    assert run_job(job.pk) == "done"
    assert dict(Bookmark.objects.values_list("url", "note")) == {
        "https://example.com/a": "About a",
        "https://example.com/b": "About b",
    }
