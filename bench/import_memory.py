"""Memory of an import: peak RSS of the web and worker steps for a generated Netscape file (~50 MB).

    .venv/bin/python bench/import_memory.py                       # 50 MB, SQLite and PostgreSQL
    .venv/bin/python bench/import_memory.py --megabytes 5 --backends sqlite

Each step runs in a fresh child process with DEBUG off, on a scratch database, and prints the
process's peak resident memory (``ru_maxrss``) and how much it grew during
the step, so the steps do not inherit each other's memory. The baseline is
the whole-file way, measured in the same run on the same file:

- web, whole file: the upload (already on disk, as Django's parser leaves a
  large file) read into memory and written as one row, as the page did;
- web, in parts: ``start_import`` storing it in 1 MiB ``ImportPart`` rows;
- worker, whole file: the stored file read whole, decoded, parsed into a list
  and imported (the list of every entry is what filled the memory);
- worker, in pieces: ``BookmarkFile`` over the stored parts (a checking
  reading, then the importing one) and ``import_bookmarks`` batch by batch.

The whole-file worker baseline uses today's batched saving, so it understates
the old worker, which also held a row per bookmark for the whole file.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratchdb import backend_urls

ROOT = Path(__file__).resolve().parent.parent
BYTES_PER_BOOKMARK = 212  # about, in bench/import.py's files
STEPS = ("web-whole", "web-parts", "worker-whole", "worker-pieces")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def production_settings(database_url: str) -> None:
    """As deployed: DEBUG off (DEBUG keeps every query's parameters, a whole file included)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "favsite.settings"
    os.environ["DEBUG"] = "0"
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)  # a throw-away key for this run
    sys.path.insert(0, str(ROOT))


def run_step(step: str, database_url: str, file: Path) -> None:
    """In the child: set up Django, do one step, print its peak memory."""
    production_settings(database_url)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import UploadedFile

    from bookmarks import services
    from bookmarks.interchange import netscape
    from bookmarks.interchange.files import BookmarkFile
    from bookmarks.interchange.import_jobs import store_upload, stored_chunks
    from bookmarks.models import Bookmark, ImportJob, ImportPart

    if step == "clear":  # web-whole's single row goes; the worker steps read web-parts' parts
        ImportPart.objects.all().delete()
        return
    user = get_user_model().objects.get(username="bench")
    job = ImportJob.objects.filter(owner=user).order_by("-id").first()
    before = peak_mb()
    t0 = time.perf_counter()
    with file.open("rb") as handle:
        upload = UploadedFile(handle, name=file.name, size=file.stat().st_size)
        if step == "web-whole":
            data = upload.read()
            ImportPart.objects.create(job=job, number=0, data=data)
        elif step == "web-parts":
            store_upload(job, upload.chunks())
    if step == "worker-whole":
        entries = netscape.parse(netscape.decode(b"".join(stored_chunks(job.pk))))
        result = services.import_bookmarks(user, entries)
    elif step == "worker-pieces":
        reader = BookmarkFile(lambda: stored_chunks(job.pk))
        total = reader.check()
        result = services.import_bookmarks(user, reader.entries(), total=total)
    seconds = time.perf_counter() - t0
    detail = f"  {result.created:,} bookmarks" if step.startswith("worker") else ""
    print(f"  {step:14} peak {peak_mb():7.1f} MB  grew {peak_mb() - before:7.1f} MB  {seconds:6.1f} s{detail}")
    if step.startswith("worker"):
        # After the figures (deleting loads every row): the next step imports into an empty collection.
        Bookmark.objects.filter(owner=user).delete()


def prepare(database_url: str) -> None:
    """In the child: migrate, make the user and a job to hold parts."""
    production_settings(database_url)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bookmarks.models import ImportJob

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    ImportJob.objects.create(owner=user, file_name="bench.html", state=ImportJob.State.DONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "DATABASE_URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, url, file = args.child
        prepare(url) if step == "prepare" else run_step(step, url, Path(file))
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from importlib import import_module

    make_file = import_module("import").make_file
    with tempfile.TemporaryDirectory(prefix="favsite-bench-") as tmp:
        workdir = Path(tmp)
        file = workdir / "bookmarks.html"
        make_file(file, max(1, int(args.megabytes * 1e6 / BYTES_PER_BOOKMARK)))
        print(f"file: {file.stat().st_size / 1e6:.1f} MB")
        for label, url in backend_urls(args.backends, workdir, "favsite_bench_memory"):
            print(label)
            # Parts stored by web-parts are the ones the worker steps read; web-whole's row goes first.
            for step in ("prepare", "web-whole", "clear", "web-parts", "worker-whole", "worker-pieces"):
                subprocess.run([sys.executable, __file__, "--child", step, url, str(file)], check=True)


if __name__ == "__main__":
    main()
