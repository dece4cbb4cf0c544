"""The editor's image upload and preview (forums.uploads): who may, what passes, no stray files."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile, ImageSequence

from forums import images, services
from forums.models import Forum
from tests import factories
from tests.forums import crafted_images as crafted

pytestmark = pytest.mark.django_db

AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the preview limit counts in the cache


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


# --- hostile images (issue #9, finding 4) ---------------------------------------------------


@pytest.fixture(scope="module")
def reported_gif() -> bytes:
    """The GIF of the report: 20 frames of 4000 x 4000 in a few dozen KB."""
    return crafted.gif_animation(20, (4000, 4000))


def assert_refused(response, settings, *words: str) -> None:
    assert response.status_code == 400
    message = response.json()["error"]
    assert all(word in message for word in words), message
    assert files_written(settings) == []


def test_the_reported_gif_of_twenty_big_frames_is_refused_with_a_message_and_no_file(
    client, alice, settings, forum, reported_gif
):
    client.force_login(alice)
    response = upload(client, reported_gif, name="bild.gif", content_type="image/gif")
    assert_refused(response, settings, "40 Megapixel")


def test_an_animation_over_the_pixel_budget_is_refused_although_each_frame_is_within_it(
    client, alice, settings, forum
):
    settings.IMAGE_UPLOAD_MAX_PIXELS = 1_000_000
    client.force_login(alice)
    ten_frames = crafted.gif_animation(10, (400, 400))  # 160,000 pixels a frame, 1.6 M in all
    response = upload(client, ten_frames, name="bild.gif", content_type="image/gif")
    assert_refused(response, settings, "1 Megapixel")


def test_an_animation_with_more_frames_than_allowed_is_refused(client, alice, settings, forum):
    settings.IMAGE_UPLOAD_MAX_FRAMES = 5
    client.force_login(alice)
    response = upload(client, crafted.gif_animation(6, (8, 8)), name="a.gif")
    assert_refused(response, settings, "höchstens 5")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(crafted.png_bomb(8000), id="decompression-bomb-png-64-megapixels"),
        pytest.param(crafted.png_claiming(12000, 10000), id="tiny-png-claiming-120-megapixels"),
        pytest.param(
            crafted.gif_growing_canvas(7000), id="gif-whose-second-frame-grows-the-canvas"
        ),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_hostile_image_is_refused_with_a_message_and_no_file(
    client, alice, settings, forum, data
):
    client.force_login(alice)
    response = upload(client, data)
    assert_refused(response, settings, "Megapixel")


def stored_image(settings) -> Image.Image:
    [written] = files_written(settings)
    return Image.open(written)


def test_a_large_photo_is_stored_downscaled_to_the_maximum_edge(client, alice, settings, forum):
    client.force_login(alice)
    response = upload(client, crafted.photo((4000, 3000)), name="foto.jpg")
    assert response.status_code == 200
    with stored_image(settings) as image:
        assert (image.format, image.size) == ("JPEG", (2000, 1500))


def test_an_animation_is_stored_animated_with_every_frame_downscaled(
    client, alice, settings, forum
):
    settings.IMAGE_UPLOAD_MAX_EDGE = 100
    client.force_login(alice)
    response = upload(client, crafted.gif_animation(3, (300, 200)), name="a.gif")
    assert response.status_code == 200
    with stored_image(settings) as image:
        assert (image.format, image.size, image.n_frames) == ("GIF", (100, 67), 3)
        assert image.info["loop"] == 0
        assert image.info["duration"] == 80


def test_a_photo_is_stored_upright_as_its_exif_orientation_says(client, alice, settings, forum):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    sideways = crafted.encode(Image.new("RGB", (60, 20), (200, 30, 30)), "JPEG", exif=exif)
    client.force_login(alice)
    assert upload(client, sideways, name="foto.jpg").status_code == 200
    with stored_image(settings) as image:
        assert image.size == (20, 60)


def test_the_image_is_decoded_on_an_image_worker_not_on_the_requests_thread(
    client, alice, settings, forum, monkeypatch
):
    threads: list[str] = []
    load = ImageFile.ImageFile.load

    def spying_load(self):
        threads.append(threading.current_thread().name)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spying_load)
    client.force_login(alice)
    assert upload(client, png()).status_code == 200
    assert threads
    assert all(name.startswith("image-job") for name in threads), threads


def test_when_every_image_worker_is_busy_the_upload_is_refused_with_try_again_and_no_file(
    client, alice, settings, forum, monkeypatch
):
    jobs = images.ImageJobs(workers=1, waiting=0)
    monkeypatch.setattr(images, "_jobs", jobs)
    started, release = threading.Event(), threading.Event()

    def blocker() -> None:
        started.set()
        release.wait(timeout=30)

    holder = threading.Thread(target=lambda: asyncio.run(jobs.run(blocker)))
    holder.start()
    try:
        assert started.wait(timeout=30)
        client.force_login(alice)
        response = upload(client, png())
        assert response.status_code == 503
        assert response["Retry-After"]
        assert response.json()["error"]
        assert files_written(settings) == []
    finally:
        release.set()
        holder.join(timeout=30)
    assert upload(client, png()).status_code == 200  # the slot is free again


# --- metadata (issue #9, finding 5) -----------------------------------------------------------

METADATA_BYTES = [
    crafted.NAME.encode(),
    b"Erika",
    b"<script",
    b"Exif",
    b"ICC_PROFILE",
    b"iCCP",
    b"tEXt",
    b"zTXt",
    b"iTXt",
    b"eXIf",
    b"XMP",
    b"xmpmeta",
]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(crafted.jpeg_with_metadata(), "a.jpg", id="jpeg-exif-xmp-icc-comment"),
        pytest.param(crafted.png_with_metadata(), "a.png", id="png-text-ztxt-itxt-icc-exif"),
        pytest.param(crafted.webp_with_metadata(), "a.webp", id="webp-exif-xmp-icc"),
        pytest.param(crafted.gif_with_metadata(), "a.gif", id="gif-comment-xmp-extension"),
        pytest.param(crafted.animated_gif_with_metadata(), "a.gif", id="animated-gif-comment"),
    ],
)
def test_no_metadata_block_survives_in_the_stored_file(client, alice, settings, forum, data, name):
    with Image.open(io.BytesIO(data)) as original:  # the crafted file does carry it
        assert crafted.METADATA_KEYS & set(original.info)
    client.force_login(alice)
    assert upload(client, data, name=name).status_code == 200
    [written] = files_written(settings)
    stored = written.read_bytes()
    assert [marker for marker in METADATA_BYTES if marker in stored] == []
    with Image.open(written) as image:
        image.load()
        # An animated GIF keeps one application extension: the loop count (NETSCAPE2.0).
        extension = image.info.pop("extension", (b"NETSCAPE2.0",))[0]
        assert extension.startswith(b"NETSCAPE2.0")
        assert crafted.METADATA_KEYS & set(image.info) == set()
        assert getattr(image, "text", {}) == {}
        assert not image.getexif()


@pytest.mark.django_db(transaction=True)
async def test_an_upload_through_the_asgi_handler_is_stored_and_a_bomb_refused(
    async_client, alice, settings, forum
):
    """The async view under Django's ASGI handler, as daphne runs it (the middleware adapted)."""
    await async_client.aforce_login(alice)
    url = reverse("markdownx_upload")
    image = SimpleUploadedFile("bild.png", png(), content_type="image/png")
    response = await async_client.post(url, {"image": image, "forum": forum.slug}, **AJAX)
    assert response.status_code == 200
    assert response.json()["image_code"].endswith(".png)")
    bomb = SimpleUploadedFile("bild.gif", crafted.gif_animation(20, (4000, 4000)))
    response = await async_client.post(url, {"image": bomb}, **AJAX)
    assert response.status_code == 400
    assert len(files_written(settings)) == 1


def test_a_long_animation_is_stored_smaller_so_that_all_its_frames_fit_the_stored_budget(
    client, alice, settings, forum
):
    settings.IMAGE_UPLOAD_MAX_ANIMATION_PIXELS = 160_000  # 40 frames of 63 x 63
    client.force_login(alice)
    response = upload(client, crafted.gif_animation(40, (400, 400)), name="a.gif")
    assert response.status_code == 200
    with stored_image(settings) as image:
        assert image.size == (63, 63)
        # Frames that became identical when scaled down are merged, their durations added.
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(image)]
        assert 1 < len(durations) <= 40 and sum(durations) == 40 * 80


def test_a_camera_jpeg_with_extra_images_is_stored_as_its_first_image(
    client, alice, settings, forum
):
    photo = Image.new("RGB", (60, 40), (200, 30, 30))
    depth = Image.new("RGB", (30, 20), (0, 0, 0))
    mpo = crafted.encode(photo, "MPO", save_all=True, append_images=[depth])
    with Image.open(io.BytesIO(mpo)) as original:
        assert (original.format, original.n_frames) == ("MPO", 2)
    client.force_login(alice)
    assert upload(client, mpo, name="foto.jpg").status_code == 200
    with stored_image(settings) as image:
        assert (image.format, image.size, getattr(image, "n_frames", 1)) == ("JPEG", (60, 40), 1)


def test_previews_over_the_limit_answer_429_with_the_reason(client, alice, settings):
    settings.PREVIEW_RATE_LIMIT = 2
    client.force_login(alice)
    url = reverse("markdownx_markdownify")
    assert [client.post(url, {"content": "a"}).status_code for _ in range(2)] == [200, 200]
    response = client.post(url, {"content": "**fett**"})
    assert response.status_code == 429
    # In the member's language (German by default).
    assert response.content.decode().startswith("Zu viele Vorschauen auf einmal. Bitte warte ")
    assert 1 <= int(response["Retry-After"]) <= settings.POST_RATE_WINDOW_SECONDS
    assert b"<strong>" not in response.content
    assert response["Content-Type"].startswith("text/plain")


def test_the_preview_limit_counts_per_member(client, alice, bob, settings):
    settings.PREVIEW_RATE_LIMIT = 1
    url = reverse("markdownx_markdownify")
    client.force_login(alice)
    client.post(url, {"content": "a"})
    client.force_login(bob)
    assert client.post(url, {"content": "a"}).status_code == 200


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
