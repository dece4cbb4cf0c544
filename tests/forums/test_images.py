"""forums.images: hostile images are refused before their frames are decoded, and cheaply."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
from collections.abc import Callable

import pytest
from PIL import Image, ImageChops, ImageSequence

from forums.images import CleanImage, ImageJobs, ImageLimits, ImageRefused, ImagesBusy, clean_image
from tests.forums import crafted_images as crafted

LIMITS = ImageLimits(max_pixels=40_000_000, max_frames=200, max_edge=2000)

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


@pytest.fixture(scope="module")
def typical_photo() -> bytes:
    return crafted.photo((4000, 3000))


HOSTILE = {
    "20 frames of 4000 x 4000 (the report)": (lambda: crafted.gif_animation(20, (4000, 4000))),
    "1,000 frames of 100 x 100": (lambda: crafted.gif_animation(1000, (100, 100))),
    "decompression-bomb PNG, 8000 x 8000": (lambda: crafted.png_bomb(8000)),
    "tiny PNG claiming 12000 x 10000": (lambda: crafted.png_claiming(12000, 10000)),
}


def images_created() -> int:
    """How many images Pillow's core has allocated in this process so far."""
    return Image.core.get_stats()["new_count"]


def cpu_seconds(function: Callable[[], object], *, repeat: int = 3) -> float:
    """The least CPU time of a few runs (CPU time, not wall clock: load elsewhere matters less)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        with contextlib.suppress(ImageRefused):
            function()
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_image_is_refused_from_its_headers_before_any_pixel_is_decoded(make):
    data = make()
    Image.init()  # importing every plugin once builds an image (PalmImagePlugin's palette)
    before = images_created()
    with pytest.raises(ImageRefused) as refused:
        clean_image(data, limits=LIMITS)
    assert refused.value.reason in ("pixels", "frames")
    assert refused.value.frames_decoded == 0
    assert images_created() == before  # not even a canvas was allocated


def test_a_gif_growing_its_canvas_is_refused_before_the_big_frame_is_decoded():
    data = crafted.gif_growing_canvas(7000)  # header: 2 frames of 16 x 16
    with pytest.raises(ImageRefused) as refused:
        clean_image(data, limits=LIMITS)
    assert (refused.value.reason, refused.value.frames_decoded) == ("pixels", 1)


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_refusing_a_hostile_image_costs_a_fraction_of_storing_a_typical_photo(make, typical_photo):
    data = make()
    photo_cost = cpu_seconds(lambda: clean_image(typical_photo, limits=LIMITS))
    refusal_cost = cpu_seconds(lambda: clean_image(data, limits=LIMITS))
    assert refusal_cost < 0.2 * photo_cost, (refusal_cost, photo_cost)


def test_a_typical_photo_is_decoded_at_a_reduced_scale_and_stored_at_the_maximum_edge(
    typical_photo,
):
    clean = clean_image(typical_photo, limits=LIMITS)
    assert (clean.extension, clean.frames) == ("jpg", 1)
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.size == (2000, 1500)


def test_an_animation_within_the_budget_keeps_every_frame():
    clean = clean_image(crafted.gif_animation(50, (200, 200)), limits=LIMITS)
    assert clean == CleanImage(clean.data, "gif", 50)


def test_a_job_runs_on_an_image_worker_thread():
    jobs = ImageJobs(workers=1, waiting=0)
    name = asyncio.run(jobs.run(lambda: threading.current_thread().name))
    assert name.startswith("image-job")


def test_jobs_beyond_the_workers_and_the_queue_are_refused_until_one_ends():
    jobs = ImageJobs(workers=1, waiting=1)
    release = threading.Event()

    async def scenario() -> list[object]:
        running = asyncio.ensure_future(jobs.run(release.wait, 30))
        waiting = asyncio.ensure_future(jobs.run(lambda: "waited"))
        await asyncio.sleep(0)  # let both take their slots
        with pytest.raises(ImagesBusy):
            await jobs.run(lambda: "refused")
        release.set()
        results = [await running, await waiting]
        results.append(await jobs.run(lambda: "free again"))
        return results

    assert asyncio.run(scenario()) == [True, "waited", "free again"]


def composed_frames(data: bytes) -> list[Image.Image]:
    with Image.open(io.BytesIO(data)) as image:
        return [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_with_transparency_looks_the_same_frame_by_frame_after_cleaning(fmt):
    """A block moves over a transparent background: each frame must clear the one before."""
    frames = []
    for index in range(4):
        frame = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
        frame.paste((200, 30, 30, 255), (10 * index, 0, 10 * index + 10, 30))
        frames.append(frame)
    disposal = {"disposal": 2} if fmt == "GIF" else {}
    data = crafted.encode(
        frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **disposal
    )
    clean = clean_image(data, limits=LIMITS)
    before, after = composed_frames(data), composed_frames(clean.data)
    assert len(after) == len(before) == 4
    assert [ImageChops.difference(a, b).getbbox() for a, b in zip(before, after, strict=True)] == [
        None
    ] * 4
