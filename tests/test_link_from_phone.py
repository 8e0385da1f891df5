"""Linking from a phone: the settings page offers an ``xmpp:`` link and its QR code for a waiting code."""

from __future__ import annotations

import pytest
import zxingcpp

from imgateway import linking
from imgateway.models import LinkCode
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

BOT = "favsite@example.org"


@pytest.fixture
def waiting(alice_client, user, settings):
    settings.XMPP_JID = BOT
    return linking.start_link(user, "alice@example.net")


def decoded(qr) -> list[str]:
    """What a phone's camera reads from the QR code: its modules drawn as pixels, read by ZXing."""
    rows = list(qr.matrix_iter(scale=4, border=4))
    pixels = bytes(0 if dark else 255 for row in rows for dark in row)
    image = zxingcpp.ImageView(pixels, len(rows[0]), len(rows), zxingcpp.ImageFormat.Lum)
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_the_link_uri_opens_a_chat_with_the_bot_with_the_code_typed_in():
    assert linking.link_uri(BOT, "ABCD2345") == "xmpp:favsite@example.org?message;body=link%20ABCD2345"


def test_the_qr_code_reads_back_as_the_link_uri():
    uri = linking.link_uri(BOT, "ABCD2345")
    assert decoded(linking.link_qr(uri)) == [uri]


def test_the_settings_page_shows_the_uri_and_the_qr_code_of_a_waiting_code(alice_client, waiting):
    page = alice_client.get("/settings/im/").content.decode()
    assert f'href="xmpp:favsite@example.org?message;body=link%20{waiting.code}"' in page
    assert f'src="/settings/im/qr/{waiting.pk}.svg"' in page


def test_the_qr_code_is_served_as_svg_to_the_owner_of_the_code(alice_client, waiting):
    response = alice_client.get(f"/settings/im/qr/{waiting.pk}.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b'xmlns="http://www.w3.org/2000/svg"' in response.content  # a document of its own, as <img> needs


def test_nobody_else_gets_the_qr_code_of_a_code(client, waiting):
    client.force_login(make_user("mallory"))
    assert client.get(f"/settings/im/qr/{waiting.pk}.svg").status_code == 404


def test_the_status_the_page_polls_lists_the_linked_addresses(alice_client, waiting):
    assert alice_client.get("/settings/im/status/").json() == {"linked": []}
    linking.link_with_code("alice@example.net", waiting.code)
    assert alice_client.get("/settings/im/status/").json() == {"linked": ["alice@example.net"]}
    assert not LinkCode.objects.exists()
