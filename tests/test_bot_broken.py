"""The bot's ``broken`` command (issue 19, part 4): the person's links the checks found broken."""

import pytest
from django.utils import timezone

from bookmarks.models import LinkHealth
from tests.conftest import make_bookmark
from tests.test_imgateway import alice, say  # noqa: F401 (``alice`` is a fixture)


@pytest.mark.parametrize("word", ["broken", "/BROKEN", "失效"])
def test_broken_lists_the_broken_links(alice, other_user, word):  # noqa: F811
    gone = make_bookmark(alice, url="https://gone.example.com/post", title="Gone post")
    LinkHealth.objects.create(bookmark=gone, outcome="gone", broken=True, failing_since=timezone.now())
    once = make_bookmark(alice, url="https://flaky.example.com/", title="Failed once")
    LinkHealth.objects.create(bookmark=once, outcome="failing", failures=1, failing_since=timezone.now())
    theirs = make_bookmark(other_user, url="https://gone.example.com/theirs", title="Not mine")
    LinkHealth.objects.create(bookmark=theirs, outcome="gone", broken=True)
    text = say(word).text
    assert text == f"[{gone.pk}] Gone post\nhttps://gone.example.com/post"


def test_broken_says_when_none_is(alice):  # noqa: F811
    make_bookmark(alice, url="https://fine.example.com/")
    assert say("broken").text == "None of your links is broken."


def test_help_names_the_broken_command(db):
    assert "broken (失效)" in say("help").text
