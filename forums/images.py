"""Uploaded images made safe to store: bounded decoding, downscaled, every metadata block dropped.

:func:`clean_image` is pure (bytes in, bytes out) and touches neither the database nor the
storage, so the upload view can run it on a worker thread of :class:`ImageJobs` instead of the
request's thread. The rules, in the order they are checked:

1. Pillow must identify the bytes as PNG, JPEG, WebP or GIF (extension and content type are
   never trusted) and ``verify()`` them.
2. The **decoded** size is bounded before anything is decoded: frames (``n_frames``, read from
   the headers) times the canvas (``size``) must stay within ``max_pixels``, and the frame count
   within ``max_frames``. Pillow's own pixel limit is per frame; a 274 KB GIF of 20 frames at
   4000 x 4000 decodes to 320 million pixels (800 MB).
3. While decoding, every frame is counted again against the same budget before it is loaded: a
   GIF frame may enlarge the canvas beyond what the header said, and Pillow only learns that
   when it reaches the frame.
4. What is stored is a new image built from the pixels alone: at most ``max_edge`` pixels on
   its longer side, turned upright by its EXIF orientation, and written with no EXIF, XMP,
   ICC profile, comment, text chunk or application extension. Animations stay animations
   (every frame, its duration and the loop count; nothing else of the file survives), scaled
   so that all their frames together hold at most ``max_animation_pixels``: the frames are
   kept in memory until the animation is encoded, so this bounds a job's peak memory.
   An ICC profile is dropped, not applied: colours are then read as sRGB, which shifts
   wide-gamut photos slightly; applying a profile would mean parsing it (hostile input) with
   LittleCMS for little gain in a discussion forum.
"""

from __future__ import annotations

import asyncio
import io
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

T = TypeVar("T")

#: Pillow format name -> (file extension, save options)
FORMATS: dict[str, tuple[str, dict]] = {
    "PNG": ("png", {"optimize": True}),
    "JPEG": ("jpg", {"quality": 85}),
    "WEBP": ("webp", {"quality": 85}),
    "GIF": ("gif", {}),
}
#: The only entries of ``Image.info`` a stored still image keeps (palette transparency); every
#: other entry (exif, icc_profile, comment, xmp, text chunks, extension, ...) is metadata.
KEPT_INFO = frozenset({"transparency"})

#: Errors Pillow raises on malformed or hostile input.
PILLOW_ERRORS = (
    UnidentifiedImageError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    Image.DecompressionBombError,
)


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int  # decoded pixels, summed over all frames
    max_frames: int
    max_edge: int  # longer side of what is stored
    max_animation_pixels: int = 8_000_000  # stored pixels of an animation, summed over frames


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    extension: str
    frames: int


class ImageRefused(Exception):
    """The upload is no image we store. ``reason``: "format", "pixels" or "frames".

    ``frames_decoded`` says how far decoding got before the refusal (0: refused from headers).
    """

    def __init__(self, reason: str, *, frames_decoded: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.frames_decoded = frames_decoded


def clean_image(data: bytes, *, limits: ImageLimits) -> CleanImage:
    """The upload re-encoded from its pixels alone; raises :class:`ImageRefused`.

    Peak memory is bounded by the limits: about 4 bytes a pixel of the frame being decoded
    (at most ``max_pixels``) plus 4 bytes a pixel of the frames kept for an animation (at
    most ``max_animation_pixels``). Only the four formats' parsers ever see the bytes.
    """
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
            # Cameras write JPEGs with extra images (MPO: a preview, a depth map); the first
            # one is the photo, and only it is decoded.
            photo_with_extras = probe.format == "MPO"
            image_format = "JPEG" if photo_with_extras else probe.format
            if image_format not in FORMATS:
                raise ImageRefused("format")
            # The frame count comes from headers (a GIF's are found by skipping over the
            # compressed data of each frame): no frame is decoded.
            frames = 1 if photo_with_extras else getattr(probe, "n_frames", 1)
            width, height = probe.size
            if frames > limits.max_frames:
                raise ImageRefused("frames")
            if frames * width * height > limits.max_pixels:
                raise ImageRefused("pixels")
            probe.verify()
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            if frames > 1:
                return _clean_animation(image, image_format, frames, limits)
            return _clean_still(image, image_format, limits)
    except PILLOW_ERRORS:
        raise ImageRefused("format") from None


def _clean_still(image: Image.Image, image_format: str, limits: ImageLimits) -> CleanImage:
    edge = limits.max_edge
    if image_format == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers the stored size:
        # a 12-megapixel photo is then decoded at 3 megapixels.
        width, height = image.size
        scale = min(1.0, edge / max(width, height))
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    _check_budget(image, decoded=0, limits=limits, frames_decoded=0)
    image.load()
    # Downscale first (the box is square, so turning it afterwards keeps it within the edge),
    # then turn: the copies exif_transpose makes are small.
    image.thumbnail((edge, edge))
    upright = ImageOps.exif_transpose(image)
    if image_format == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    clean = _pixels_only(upright, keep=KEPT_INFO)
    extension, options = FORMATS[image_format]
    out = io.BytesIO()
    clean.save(out, format=image_format, **options)
    return CleanImage(out.getvalue(), extension, 1)


def _clean_animation(
    image: Image.Image, image_format: str, frames: int, limits: ImageLimits
) -> CleanImage:
    target = _animation_size(image.size, frames, limits)
    kept: list[Image.Image] = []
    durations: list[int] = []
    decoded = 0
    for index in range(frames):
        image.seek(index)  # reads the frame's header; may enlarge a GIF's canvas
        decoded = _check_budget(image, decoded=decoded, limits=limits, frames_decoded=index)
        image.load()
        # Pillow composes each frame onto the canvas, so every kept frame is complete; all get
        # the same size, even if a GIF frame enlarged the canvas on the way.
        frame = image.convert("RGBA")
        if frame.size != target:
            frame = frame.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
        frame.info = {}  # convert() made a new image but copied the file's metadata into it
        kept.append(frame)
        durations.append(int(image.info.get("duration") or 100))
    options: dict = {
        "save_all": True,
        "append_images": kept[1:],
        "duration": durations,
        "loop": int(image.info.get("loop", 0)),
    }
    if image_format == "GIF":
        # A frame that turns pixels transparent must clear the previous one (disposal 2);
        # opaque animations keep the previous frame (1), which lets Pillow store differences.
        transparent = any(frame.getextrema()[3][0] < 255 for frame in kept)
        options["disposal"] = 2 if transparent else 1
    elif image_format == "WEBP":
        options["quality"] = FORMATS["WEBP"][1]["quality"]
    extension, _options = FORMATS[image_format]
    out = io.BytesIO()
    kept[0].save(out, format=image_format, **options)
    return CleanImage(out.getvalue(), extension, len(kept))


def _animation_size(size: tuple[int, int], frames: int, limits: ImageLimits) -> tuple[int, int]:
    """The size every stored frame gets: within ``max_edge``, and all frames together within
    ``max_animation_pixels`` (the frames are held in memory until the animation is encoded)."""
    width, height = size
    scale = min(
        1.0,
        limits.max_edge / max(width, height),
        math.sqrt(limits.max_animation_pixels / (frames * width * height)),
    )
    return max(1, round(width * scale)), max(1, round(height * scale))


def _check_budget(
    image: Image.Image, *, decoded: int, limits: ImageLimits, frames_decoded: int
) -> int:
    """The pixels decoded once this frame is loaded; refuses before it is loaded if too many."""
    width, height = image.size
    total = decoded + width * height
    if total > limits.max_pixels:
        raise ImageRefused("pixels", frames_decoded=frames_decoded)
    return total


def _pixels_only(image: Image.Image, *, keep: frozenset[str]) -> Image.Image:
    """A copy carrying the pixels (and palette) but none of the file's metadata.

    Pillow's encoders fall back to ``info`` for comments, ICC profiles, EXIF and XMP, so a copy
    with a cleared ``info`` is what keeps them out of the stored file.
    """
    clean = image.copy()
    clean.info = {key: value for key, value in image.info.items() if key in keep}
    return clean


class ImagesBusy(Exception):
    """Every worker is busy and the queue is full: try again shortly."""


class ImageJobs:
    """Image work off the request's thread: ``workers`` at a time, ``waiting`` more queued.

    Decoding is CPU and memory heavy and needs no database, so it must not hold the thread
    that Django (and Channels' ``database_sync_to_async``) runs synchronous code on. A job
    beyond the queue is refused at once (:class:`ImagesBusy`) rather than queued without
    bound: each queued job holds its upload (up to 5 MB) in memory.
    """

    def __init__(self, *, workers: int, waiting: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image-job")
        self._slots = threading.BoundedSemaphore(workers + waiting)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        if not self._slots.acquire(blocking=False):
            raise ImagesBusy
        try:
            future = self._pool.submit(function, *args)
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the job ends, not when the request does: a client that goes
        # away must not let more jobs run than there are slots.
        future.add_done_callback(lambda _future: self._slots.release())
        return await asyncio.wrap_future(future)


_jobs: ImageJobs | None = None
_jobs_lock = threading.Lock()


def image_jobs() -> ImageJobs:
    """This process's job pool, sized by ``IMAGE_UPLOAD_WORKERS`` and ``IMAGE_UPLOAD_QUEUE``."""
    global _jobs
    with _jobs_lock:
        if _jobs is None:
            _jobs = ImageJobs(
                workers=settings.IMAGE_UPLOAD_WORKERS, waiting=settings.IMAGE_UPLOAD_QUEUE
            )
        return _jobs


def limits_from_settings() -> ImageLimits:
    return ImageLimits(
        max_pixels=settings.IMAGE_UPLOAD_MAX_PIXELS,
        max_frames=settings.IMAGE_UPLOAD_MAX_FRAMES,
        max_edge=settings.IMAGE_UPLOAD_MAX_EDGE,
        max_animation_pixels=settings.IMAGE_UPLOAD_MAX_ANIMATION_PIXELS,
    )
