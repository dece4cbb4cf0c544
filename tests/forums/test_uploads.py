"""The editor's image upload and preview (forums.uploads): who may, what passes, no stray files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from forums import services
from forums.models import Forum
from tests import factories

pytestmark = pytest.mark.django_db

AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def forum(sam):
    return factories.make_forum(actor=sam, slug="mieten")


def png(size=(8, 8), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def files_written(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(client, data: bytes, name="bild.png", content_type="image/png", **fields):
    image = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(reverse("markdownx_upload"), {"image": image, **fields}, **AJAX)


def test_an_anonymous_upload_is_refused_and_writes_no_file(client, settings, forum):
    response = upload(client, png())
    assert response.status_code == 403
    assert response.json()["error"]
    assert files_written(settings) == []


def test_an_outsider_without_a_participate_right_is_refused_and_writes_no_file(
    client, olga, settings, forum
):
    client.force_login(olga)
    response = upload(client, png())
    assert response.status_code == 403
    assert files_written(settings) == []


def test_a_member_is_refused_for_a_named_forum_they_may_not_post_in(client, alice, sam, settings):
    invited = factories.make_forum(actor=sam, slug="geheim", visibility=Forum.Visibility.INVITED)
    client.force_login(alice)
    response = upload(client, png(), forum=invited.slug)
    assert response.status_code == 403
    assert files_written(settings) == []


def test_a_member_uploads_a_real_png_and_the_file_exists(client, alice, settings, forum):
    client.force_login(alice)
    response = upload(client, png(), forum=forum.slug)
    assert response.status_code == 200
    code = response.json()["image_code"]
    assert code.startswith("![](/media/uploads/") and code.endswith(".png)")
    [written] = files_written(settings)
    assert str(written).endswith(code[len("![](/media/") : -1])
    with Image.open(written) as image:
        assert image.format == "PNG"


def test_a_guest_with_a_grant_may_upload(client, gina, sam, settings, forum):
    services.forum_grant(actor=sam, forum=forum, member=gina, right="participate")
    client.force_login(gina)
    response = upload(client, png(fmt="JPEG"), name="foto.jpg", content_type="image/jpeg")
    assert response.status_code == 200
    assert [p.suffix for p in files_written(settings)] == [".jpg"]


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("bild.svg", SVG, "image/svg+xml"),
        ("bild.png", SVG, "image/png"),
        ("bild.png", b"nur Text, kein Bild\n" * 10, "image/png"),
        ("bild.png", png(fmt="BMP"), "image/png"),
        ("bild.png", png()[:40], "image/png"),
    ],
    ids=["svg", "svg-renamed-png", "text-named-png", "bmp", "truncated-png"],
)
def test_anything_but_a_real_image_is_refused_with_a_message_and_no_file(
    client, alice, settings, forum, name, data, content_type
):
    client.force_login(alice)
    response = upload(client, data, name=name, content_type=content_type)
    assert response.status_code == 400
    assert "PNG" in response.json()["error"]
    assert files_written(settings) == []


def test_an_image_over_five_megabytes_is_refused_with_a_message_and_no_file(
    client, alice, settings, forum
):
    client.force_login(alice)
    big = png() + b"\0" * (5 * 1024 * 1024)
    response = upload(client, big)
    assert response.status_code == 400
    assert "5" in response.json()["error"]
    assert files_written(settings) == []


def test_the_preview_needs_a_login(client):
    response = client.post(reverse("markdownx_markdownify"), {"content": "**fett**"})
    assert response.status_code == 403


def test_the_preview_renders_with_our_sanitiser(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("markdownx_markdownify"), {"content": "**fett** <script>alert(1)</script>"}
    )
    assert response.status_code == 200
    assert b"<strong>fett</strong>" in response.content
    assert b"<script" not in response.content


def test_the_preview_refuses_get(client, alice):
    client.force_login(alice)
    assert client.get(reverse("markdownx_markdownify")).status_code == 405


@pytest.mark.parametrize("ref", ["²", "١٢", "𝟙", "mie\x00ten", "mieten/../x"])
def test_a_forum_named_by_what_no_forum_can_be_named_is_refused_not_a_crash(
    client, alice, settings, forum, ref
):
    # Found by tests/forums/test_forms_hypothesis.py: "²".isdigit() holds, int("²") raises;
    # a NUL byte in the slug lookup is a server error on PostgreSQL (DataError).
    client.force_login(alice)
    response = upload(client, png(), forum=ref)
    assert response.status_code == 403
    assert response.json()["error"]
    assert files_written(settings) == []
