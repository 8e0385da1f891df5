"""The one place that creates, changes and deletes bookmarks and tags.

Views, forms, the importer, the APIs, Celery tasks and the chat gateway call
these functions; none of them saves a ``Bookmark`` by itself. Each module
here is one concern: ``saving`` (a link saved, edited, deleted), ``tagging``,
``fetches`` (a page fetch queued, begun, recorded, swept),
``fair_share`` (each account's share of the fetch slots), ``texts`` (a
page's readable text kept, and its sweep), ``importing`` (many bookmarks
from a file at once) and ``changes`` (whose bookmarks changed, for the list
page's live poll).
"""

from bookmarks.normalize import InvalidURL
from bookmarks.services.fetches import (
    begin_fetch,
    defer_fetch,
    queue_fetches,
    record_fetch,
    refresh_metadata,
    requeue_unsent,
    send_fetches,
    sweep_stale_fetches,
)
from bookmarks.services.health import queue_link_checks, use_final_url
from bookmarks.services.importing import ImportResult, import_bookmarks
from bookmarks.services.saving import (
    NOTE_MAX_LENGTH,
    DuplicateURL,
    PreparedSave,
    SaveResult,
    clean_text,
    delete_bookmarks,
    edit_bookmark,
    mark_unread,
    merge_resave,
    prepare_save,
    replace_note,
    save_prepared,
    save_url,
)
from bookmarks.services.tagging import (
    TooManyTags,
    add_tags,
    check_tag_count,
    delete_tag,
    get_or_create_tags,
    max_tags,
    merge_tags,
    parse_tags,
    rename_tag,
    tag_bookmarks,
    untag_bookmarks,
)
from bookmarks.services.texts import (
    begin_text,
    claim_texts,
    keeps_text,
    owed_texts,
    record_text,
    set_text_keeping,
    sweep_page_texts,
)

__all__ = [
    "NOTE_MAX_LENGTH",
    "DuplicateURL",
    "ImportResult",
    "InvalidURL",
    "PreparedSave",
    "SaveResult",
    "add_tags",
    "begin_fetch",
    "begin_text",
    "claim_texts",
    "clean_text",
    "defer_fetch",
    "delete_bookmarks",
    "delete_tag",
    "edit_bookmark",
    "get_or_create_tags",
    "import_bookmarks",
    "keeps_text",
    "mark_unread",
    "merge_resave",
    "merge_tags",
    "owed_texts",
    "parse_tags",
    "TooManyTags",
    "check_tag_count",
    "max_tags",
    "prepare_save",
    "queue_fetches",
    "queue_link_checks",
    "record_fetch",
    "record_text",
    "refresh_metadata",
    "rename_tag",
    "replace_note",
    "requeue_unsent",
    "save_prepared",
    "save_url",
    "send_fetches",
    "set_text_keeping",
    "sweep_page_texts",
    "sweep_stale_fetches",
    "tag_bookmarks",
    "untag_bookmarks",
    "use_final_url",
]
