"""Reading a chat message: a command, or links with ``#tags``, ``!later`` and a note.

Only schemed ``http://`` and ``https://`` links are saved; a bare
``example.com`` stays part of the note. A link ends at white space, at an
unbalanced closing bracket, at ``<``/``>`` and at full-width punctuation
(``，``, ``。``, ``｜``, ...), and loses trailing ``.,:;!?`` and an unpaired
quote, so "see (https://example.com/a_(b))." yields ``https://example.com/a_(b)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_URLS_PER_MESSAGE = 10

# Not glued to an ASCII word ("_http://" is no link), but Chinese text runs
# straight into a link without a space: "看这个https://...".
_SCHEME_RE = re.compile(r"(?<![A-Za-z0-9_])https?://", re.IGNORECASE)
# Something written like a link in another scheme: named in the reply, not saved.
_OTHER_SCHEME_RE = re.compile(r"(?<![\w:/])([a-z][a-z0-9+.\-]*)://\S+", re.IGNORECASE)
_TAG_RE = re.compile(r"(?<!\S)[#＃]([\w][\w\-+.]*)")
_TRAILING_JUNK = ".,:;!?"
_OPENERS = {")": "(", "]": "[", "}": "{"}
# A host label: no ASCII punctuation but inner "-"/"_"; other Unicode is left
# to the IDNA check when the link is saved.
_LABEL_RE = re.compile(r"^(?![-_])[^\s!-,./:-@\[-^`{-~]+(?<![-_])$")
_PORT_RE = re.compile(r"^\d{1,5}$")
# A word anywhere in a message with links: save them to read later (unread). Full-width "！" too.
LATER_WORDS = ("!later", "!稍后", "!稍后读")
_PUNCTUATION_ONLY = re.compile(r"^[.,;:!?()\[\]{}\"'，。、；：！？（）【】「」《》]+$")


def _ends_link(ch: str) -> bool:
    if ch.isspace() or ch in "<>`":
        return True
    code = ord(ch)
    # CJK symbols and punctuation, and full-width forms (，。｜（ ...):
    # Chinese text puts them right after a link without a space.
    return 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF65


def _scan(text: str, start: int) -> int:
    """Index just past the link starting at ``start``."""
    depth = {"(": 0, "[": 0, "{": 0}
    i = start
    while i < len(text):
        ch = text[i]
        if _ends_link(ch):
            break
        if ch in depth:
            depth[ch] += 1
        elif ch in _OPENERS:
            opener = _OPENERS[ch]
            if depth[opener] == 0:
                break  # "(see http://x.org)": the bracket belongs to the text
            depth[opener] -= 1
        i += 1
    return i


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING_JUNK or (last in "\"'" and url.count(last) % 2 == 1):
            url = url[:-1]
        else:
            break
    return url


def valid_host(url: str) -> bool:
    """Whether the authority of a schemed URL names a plausible host (and port)."""
    rest = url.split("://", 1)[1]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    hostport = authority.rsplit("@", 1)[-1]
    if hostport.startswith("["):  # IPv6 literal
        host, _, tail = hostport[1:].partition("]")
        return bool(host) and (not tail or (tail.startswith(":") and _valid_port(tail[1:])))
    host, _, port = hostport.partition(":")
    if port and not _valid_port(port):
        return False
    host = host.removesuffix(".")
    return bool(host) and all(_LABEL_RE.match(label) for label in host.split("."))


def _valid_port(port: str) -> bool:
    return bool(_PORT_RE.match(port)) and 0 < int(port) <= 65535


@dataclass
class Extracted:
    urls: list[str] = field(default_factory=list)
    # Pieces written like links that cannot be saved (another scheme, no host).
    refused: list[str] = field(default_factory=list)
    # (start, end) of every link-like piece, to cut out of the note.
    spans: list[tuple[int, int]] = field(default_factory=list)


def extract_urls(text: str) -> Extracted:
    """The http(s) links in ``text``, in order, each once."""
    found = Extracted()
    pos = 0
    while match := _SCHEME_RE.search(text, pos):
        end = _scan(text, match.start())
        url = _trim(text[match.start() : end])
        found.spans.append((match.start(), match.start() + len(url)))
        if valid_host(url) if len(url) > match.end() - match.start() else False:
            if url not in found.urls:
                found.urls.append(url)
        else:
            found.refused.append(url)
        pos = max(end, match.end())
    for match in _OTHER_SCHEME_RE.finditer(text):
        if match.group(1).lower() not in ("http", "https") and not _inside(match.start(), found.spans):
            piece = _trim(text[match.start() : _scan(text, match.start())])
            found.refused.append(piece)
            found.spans.append((match.start(), match.start() + len(piece)))
    found.spans.sort()
    return found


def _inside(index: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= index < end for start, end in spans)


# Command words, with their Chinese aliases; matched ignoring case and a leading "/".
COMMANDS: dict[str, str] = {
    "help": "help",
    "帮助": "help",
    "?": "help",
    "link": "link",
    "绑定": "link",
    "unlink": "unlink",
    "解绑": "unlink",
    "recent": "recent",
    "最近": "recent",
    "find": "find",
    "search": "find",
    "搜索": "find",
    "查找": "find",
    "tags": "tags",
    "标签": "tags",
    "del": "del",
    "delete": "del",
    "删除": "del",
    "undo": "undo",
    "撤销": "undo",
    "broken": "broken",
    "失效": "broken",
}


@dataclass
class Command:
    name: str  # one of COMMANDS' values, or "unknown"
    args: str
    word: str = ""  # what the person typed, for the "unknown command" hint


@dataclass
class Save:
    urls: list[str]
    tags: list[str]
    note: str
    refused: list[str] = field(default_factory=list)
    # Links beyond MAX_URLS_PER_MESSAGE: named in the reply, not saved.
    over_limit: list[str] = field(default_factory=list)
    # ``!later`` was in the message: the links are marked unread ("read later").
    later: bool = False


def parse_message(body: str, oob_urls: list[str] | None = None) -> Command | Save:
    """What a chat message asks for.

    1. A message that starts with "/" is a command (known or not).
    2. A message with http(s) links (in the body or as XEP-0066 OOB URLs)
       saves them; ``#tags`` become tags, the rest of the text the note.
    3. Otherwise its first word is a command, or "unknown".
    """
    text = body.strip()
    first, rest = _split_first_word(text)
    if text.startswith(("/", "／")):
        word = first[1:]
        return Command(COMMANDS.get(word.casefold(), "unknown"), rest, word)
    found = extract_urls(text)
    urls = list(found.urls)
    for url in oob_urls or ():
        url = url.strip()
        if url and url not in urls:
            if _SCHEME_RE.match(url) and valid_host(url):
                urls.append(url)
            else:
                found.refused.append(url)
    if urls or found.refused:
        return _save(text, found, urls)
    name = COMMANDS.get(first.casefold())
    if name:
        return Command(name, rest, first)
    return Command("unknown", rest, first)


def _split_first_word(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _save(text: str, found: Extracted, urls: list[str]) -> Save:
    # Cut the links out, then the tags; what is left is the note.
    pieces, pos = [], 0
    for start, end in found.spans:
        if start >= pos:
            pieces.append(text[pos:start])
            pos = end
    pieces.append(text[pos:])
    rest = " ".join(pieces)
    tags = [m.group(1).rstrip(".") for m in _TAG_RE.finditer(rest)]
    # Punctuation left behind by a cut-out link ("see https://x, ...") goes too.
    words = [w for w in _TAG_RE.sub(" ", rest).split() if not _PUNCTUATION_ONLY.match(w)]
    later = any(_is_later(w) for w in words)
    note = " ".join(w for w in words if not _is_later(w))
    return Save(
        urls=urls[:MAX_URLS_PER_MESSAGE],
        tags=[t for t in tags if t],
        note=note,
        refused=found.refused,
        over_limit=urls[MAX_URLS_PER_MESSAGE:],
        later=later,
    )


def _is_later(word: str) -> bool:
    return word.replace("！", "!").casefold() in LATER_WORDS
