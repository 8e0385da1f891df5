"""Hostile chat input: thousands of messages through the handler, hundreds through Prosody.

Inputs: every ``input``/``base`` of the WHATWG URL tests and every line of
linkify-it's links/not_links (../shared/conformance/url/), each alone and
inside a message with tags and a note; random Unicode (all planes, combining
marks, RTL, emoji, zero-width), control characters, bodies at, over and far
over the size cap, many URLs, and malformed commands. Randomness is seeded
(``FAVSITE_FUZZ_SEED``, printed on failure) so a failure reproduces.

The sync part calls ``imgateway.messages.handle_message`` (what the bot runs
for each message): no exception, nothing logged at ERROR, one ``Reply``
whose text is XML-safe whenever the input was, bounded memory. The Prosody
part sends a few hundred of the XML-legal inputs to the real gateway process:
it stays up, logs no traceback, and answers each message at most once.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from pathlib import Path

import pytest
from django.conf import settings

from imgateway.linking import link_verified
from imgateway.messages import Incoming, handle_message
from imgateway.models import LinkedJid
from imgateway.parsing import COMMANDS, Command, parse_message
from tests.conftest import make_user
from tests.fixtures.prosody import Gateway, gateway_env, linked_person

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "url"
SEED = int(os.environ.get("FAVSITE_FUZZ_SEED", "20261124"))
RANDOM_MESSAGES = 1500
PROSODY_MESSAGES = 300
ALICE = "alice@example.org/fuzz"
STRANGER = "stranger@example.net/fuzz"
# Characters XML 1.0 cannot carry: such a body never arrives over XMPP, and a
# reply containing one would break the bot's stream.
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MEMORY_GROWTH_LIMIT = 32 * 1024 * 1024  # RSS, after a warm-up

# Figures for docs/SECURITY.md, printed at the end of each test (pytest -s).
FIGURES: dict[str, int] = {}


def conformance_inputs() -> list[str]:
    inputs: list[str] = []
    data_file = CONFORMANCE / "urltestdata.json"
    if data_file.exists():
        for case in json.loads(data_file.read_text(encoding="utf-8")):
            if isinstance(case, dict):
                inputs.extend(value for key in ("input", "base") if isinstance(value := case.get(key), str))
    for name in ("linkify-it-links.txt", "linkify-it-not_links.txt"):
        path = CONFORMANCE / name
        if path.exists():
            inputs.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return inputs


def random_text(rng: random.Random, length: int) -> str:
    pools = [
        (0x20, 0x7E),  # ASCII
        (0x00, 0x1F),  # C0 controls
        (0x7F, 0x9F),  # DEL, C1 controls
        (0x300, 0x36F),  # combining marks
        (0x590, 0x6FF),  # Hebrew, Arabic (RTL)
        (0x200B, 0x202E),  # zero-width, bidi overrides
        (0x3000, 0x303F),  # CJK punctuation
        (0x4E00, 0x9FFF),  # CJK
        (0xFF01, 0xFF65),  # full-width forms
        (0xFFF0, 0xFFFF),  # specials, non-characters
        (0x1F300, 0x1FAFF),  # emoji
        (0xE0000, 0xE007F),  # tag characters
        (0x10FFF0, 0x10FFFF),  # the last plane's end
    ]
    out = []
    for _ in range(length):
        low, high = rng.choice(pools)
        out.append(chr(rng.randint(low, high)))
    return "".join(out)


def malformed_commands(rng: random.Random) -> list[str]:
    words = sorted(COMMANDS)
    args = ["", " ", "0", "-1", "99999999999999999999999", "1e9", "abc", "#", "%s", "{0}", "\x00", "🙂", "ID", "  7  "]
    out = []
    for word in words:
        for arg in args:
            for prefix in ("", "/", "//", " /"):
                out.append(f"{prefix}{word} {arg}")
                out.append(f"{prefix}{word.upper()}{arg}")
    out += ["/", "//", "/ ", "link", "link " + "A" * 5000, "del " + "9" * 4000, "find " + '"' * 50, "find -", "find #"]
    rng.shuffle(out)
    return out


def big_bodies(limit: int) -> list[str]:
    url = "https://example.com/" + "a" * 40 + " "
    at_cap = (url * (limit // len(url) + 1))[:limit]
    return [
        at_cap,
        at_cap + "b",
        "x" * limit,
        "é" * (limit // 2) + "x",  # one byte over, in two-byte characters
        "https://example.com/" + "p" * (limit - 20),
        " ".join(f"https://example.com/{i}" for i in range(200))[:limit],
        "#" * limit,
        "https://example.com/ " * 10 * 1000,  # far over the cap
        "\n" * limit,
    ]


def all_inputs(rng: random.Random) -> list[str]:
    inputs: list[str] = []
    for text in conformance_inputs():
        inputs.append(text)
        inputs.append(f"look {text} #fuzz 看这个{text}，好 note")
    inputs += malformed_commands(rng)
    inputs += big_bodies(settings.XMPP_MAX_BODY_BYTES)
    for _ in range(RANDOM_MESSAGES):
        text = random_text(rng, rng.choice([1, 5, 40, 300]))
        if rng.random() < 0.5:
            text = f"https://{random_text(rng, 6)}.example/{text} #{random_text(rng, 3)}"
        inputs.append(text)
    return inputs


def senders(rng: random.Random) -> str:
    return rng.choice([ALICE] * 8 + [STRANGER, "", "@", "a@b@c", "x" * 3000 + "@example.org", "alice@example.org/"])


@pytest.mark.django_db
def test_thousands_of_hostile_messages_are_handled_without_error(caplog):
    rng = random.Random(SEED)
    alice = make_user("alice")
    link_verified(alice, ALICE)
    inputs = all_inputs(rng)
    caplog.set_level(logging.WARNING)
    baseline = 0
    for index, body in enumerate(inputs):
        sender = senders(rng)
        try:
            reply = handle_message(Incoming(sender, body, [], f"fuzz{index}"))
        except Exception as exc:  # noqa: BLE001 (the failure names the input)
            pytest.fail(f"seed {SEED}, input {index} from {sender!r}: {body[:200]!r} raised {exc!r}")
        assert reply.text is None or isinstance(reply.text, str)
        if reply.text and not XML_ILLEGAL.search(body) and not XML_ILLEGAL.search(sender):
            assert not XML_ILLEGAL.search(reply.text), (SEED, index, body[:200], reply.text[:200])
        if not LinkedJid.objects.filter(jid="alice@example.org").exists():
            link_verified(alice, ALICE)  # "unlink" was among the inputs
        if index == 300:
            baseline = rss_bytes(os.getpid())  # after warming caches and the connection
    growth = rss_bytes(os.getpid()) - baseline
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, [record.getMessage() for record in errors[:5]]
    assert growth < MEMORY_GROWTH_LIMIT, growth
    FIGURES.update(handler_inputs=len(inputs), handler_memory_growth_bytes=growth)
    print(f"fuzz seed {SEED}: {len(inputs)} inputs through handle_message, memory growth {growth} bytes")


def wait_quiet(people, quiet: float = 1.5, timeout: float = 120) -> None:
    """Until no new message has arrived for ``quiet`` seconds."""
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sum(len(person.bodies()) for person in people)
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def unlinks(body: str) -> bool:
    """``unlink`` would end the sender's link halfway through (the sync test re-links instead)."""
    parsed = parse_message(body, [])
    return isinstance(parsed, Command) and parsed.name == "unlink"


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.django_db(transaction=True)
def test_hundreds_of_hostile_messages_through_prosody_get_at_most_one_reply_each(prosody, chat_user, tmp_path):
    rng = random.Random(SEED + 1)
    legal = [text for text in all_inputs(rng) if not XML_ILLEGAL.search(text) and text.strip() and not unlinks(text)]
    # Keep the slow parts (the big bodies, the commands) and sample the rest.
    chosen = rng.sample(legal, PROSODY_MESSAGES)
    _user, alice = linked_person(chat_user)
    stranger = chat_user()
    # No rate limit here: every message must reach the handler.
    env = gateway_env(prosody, XMPP_RATE_BURST="100000", XMPP_RATE_PER_MINUTE="100000")
    gateway = Gateway(prosody, tmp_path / "gateway.log", env)
    try:
        gateway.start()
        sent = {alice: 0, stranger: 0}
        rss_start = None
        for index, body in enumerate(chosen):
            person = stranger if index % 10 == 0 else alice
            person.send(gateway.jid, body)
            sent[person] += 1
            if index == 50:
                alice.reply_to(gateway, "help", timeout=60)
                sent[alice] += 1
                rss_start = rss_bytes(gateway.process.pid)
        # A last message to each: once its answer is in, every earlier one was handled
        # (the gateway handles one sender's messages in order).
        marker = f"find fuzz-end-{alice.user}"
        alice.send(gateway.jid, marker)
        sent[alice] += 1
        alice.wait_for_message(lambda m: "fuzz-end" in m.body, timeout=120)
        stranger.send(gateway.jid, "help")  # strangers get help, and one notice an hour
        sent[stranger] += 1
        stranger.wait_for_message(lambda m: m.body.startswith("Send me a link"), timeout=120)
        wait_quiet([alice, stranger])
        rss_end = rss_bytes(gateway.process.pid)
        assert gateway.process.poll() is None, "the gateway died"
        log = gateway.log()
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
        for person, count in sent.items():
            assert len(person.bodies()) <= count, (person.jid, count, person.bodies()[-5:])
        FIGURES.update(
            prosody_messages=sum(sent.values()),
            prosody_replies=sum(len(person.bodies()) for person in sent),
            gateway_rss_growth_bytes=rss_end - rss_start,
        )
        assert rss_end - rss_start < 64 * 1024 * 1024
        print(f"fuzz over Prosody: {FIGURES}")
    finally:
        gateway.stop()
        print(f"--- gateway log ---\n{gateway.log()[-3000:]}")


@pytest.mark.django_db
@pytest.mark.parametrize("ids", ["99999999999999999999999", "²", "1 2 ³"])
def test_del_with_an_id_no_database_can_hold_gets_the_usage_hint(ids):
    """Found by the fuzz test: a 23-digit id overflowed SQLite's INTEGER; "²" passed isdigit()."""
    link_verified(make_user("alice"), ALICE)
    assert handle_message(Incoming(ALICE, f"del {ids}", [], "x")).text.startswith("Usage: del ID")
