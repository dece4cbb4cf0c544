"""Image files built for tests and the upload benchmark: hostile ones, and ones full of metadata.

Every metadata block carries a person's name and HTML, so a test can search a stored file's raw
bytes for them.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms

NAME = "Erika Mustermann"
HTML = "<script>alert('Erika')</script>"
MARKER = f"{NAME} {HTML}"

#: Entries of ``Image.info`` that are metadata, in the names Pillow gives them.
METADATA_KEYS = {"exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp", "extension"}


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def photo(size: tuple[int, int] = (4000, 3000), quality: int = 90) -> bytes:
    """A typical phone photo: 12 megapixels, about 2.6 MB of JPEG with some texture."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    texture = Image.effect_noise((width // 10, height // 10), 60).resize(
        size, Image.Resampling.BICUBIC
    )
    image = Image.merge("RGB", (gradient, texture, gradient.transpose(Image.Transpose.ROTATE_180)))
    return encode(image, "JPEG", quality=quality)


def gif_animation(frames: int, size: tuple[int, int]) -> bytes:
    """An animated GIF of size; the frames after the first change one pixel each.

    Built as GIF writers do it (the later frames are 1 x 1 patches), so the file stays a few KB
    whatever the size, while a decoder composes every frame onto the full canvas.
    """
    palette = [0, 0, 0, 255, 255, 255, 200, 30, 30] + [0] * (253 * 3)
    first = Image.new("P", size, 0)
    first.putpalette(palette)
    patch = Image.new("P", (1, 1), 1)
    patch.putpalette(palette)
    head, first_blocks = _gif_blocks(
        encode(first, "GIF", save_all=True, duration=80, loop=0, optimize=False)
    )
    _patch_head, patch_blocks = _gif_blocks(encode(patch, "GIF", duration=80, optimize=False))
    *control, descriptor = patch_blocks
    later = []
    for index in range(1, frames):
        x, y = index % size[0], index // size[0] % size[1]
        later += [*control, descriptor[:1] + struct.pack("<HH", x, y) + descriptor[5:]]
    return head + b"".join(first_blocks + later) + b";"


def gif_with_junk(junk: int) -> bytes:
    """A two-frame GIF followed by junk bytes, which GIF readers skip one at a time."""
    return gif_animation(2, (100, 100))[:-1] + b"\x01" * junk + b";"


def png_bomb(side: int) -> bytes:
    """A PNG of side x side black pixels: zlib packs them about 1,000 to 1."""
    return encode(Image.new("L", (side, side), 0), "PNG", compress_level=9)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG header announcing a huge image, with almost no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _gif_blocks(data: bytes) -> tuple[bytes, list[bytes]]:
    """A GIF split into its head (header, screen, global palette) and the blocks after it."""
    flags = data[10]
    offset = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    head, blocks = data[:offset], []
    while data[offset : offset + 1] != b";":
        start = offset
        if data[offset : offset + 1] == b"!":
            offset += 2
        else:  # b",": an image descriptor, its local palette, the LZW code size
            local = data[offset + 9]
            offset += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        while data[offset]:  # data sub-blocks up to the terminator
            offset += data[offset] + 1
        offset += 1
        blocks.append(data[start:offset])
    return head, blocks


def gif_growing_canvas(big: int = 6000) -> bytes:
    """A GIF whose header says 16 x 16 but whose second frame is big x big.

    Pillow learns the real size only when it reaches that frame, so a check of ``size`` and
    ``n_frames`` alone misses it.
    """
    palette = [0, 0, 0, 255, 255, 255] + [0] * (254 * 3)
    small = Image.new("P", (16, 16), 1)
    small.putpalette(palette)
    large = Image.new("P", (big, big), 0)
    large.putpalette(palette)
    small_head, small_blocks = _gif_blocks(encode(small, "GIF", optimize=False))
    _large_head, large_blocks = _gif_blocks(encode(large, "GIF", optimize=False))
    return small_head + b"".join(small_blocks + large_blocks) + b";"


def _sub_blocks(payload: bytes) -> bytes:
    chunks = [payload[i : i + 255] for i in range(0, len(payload), 255)]
    return b"".join(bytes([len(chunk)]) + chunk for chunk in chunks) + b"\0"


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x010E] = HTML  # ImageDescription
    exif[0x8298] = MARKER  # Copyright
    return exif.tobytes()


def _xmp() -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>'
        f"<dc:creator>{NAME}</dc:creator><dc:description>{HTML}</dc:description>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def _icc() -> bytes:
    # A real sRGB profile with the marker appended: Pillow stores profiles as opaque bytes.
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile + MARKER.encode()


def _picture(mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (64, 48), (200, 30, 30) if mode == "RGB" else 1)
    return image


def jpeg_with_metadata() -> bytes:
    return encode(
        _picture(),
        "JPEG",
        quality=90,
        comment=MARKER.encode(),
        exif=_exif(),
        icc_profile=_icc(),
        xmp=_xmp(),
    )


def png_with_metadata() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", NAME)  # tEXt
    info.add_text("Description", HTML, zip=True)  # zTXt
    info.add_itxt("Comment", MARKER, lang="de", tkey="Kommentar")  # iTXt
    info.add_itxt("XML:com.adobe.xmp", _xmp().decode())  # XMP as PNG carries it
    return encode(_picture(), "PNG", pnginfo=info, icc_profile=_icc(), exif=_exif())


def webp_with_metadata() -> bytes:
    return encode(_picture(), "WEBP", icc_profile=_icc(), exif=_exif(), xmp=_xmp())


def _with_application_extension(gif: bytes) -> bytes:
    """The GIF with an XMP application extension (as Photoshop writes it) before its frames."""
    head, blocks = _gif_blocks(gif)
    extension = b"!\xff\x0bXMP DataXMP" + _sub_blocks(_xmp())
    return head + extension + b"".join(blocks) + b";"


def gif_with_metadata() -> bytes:
    image = _picture("P")
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * (254 * 3))
    return _with_application_extension(encode(image, "GIF", comment=MARKER.encode()))


def animated_gif_with_metadata() -> bytes:
    frames = []
    for index in range(3):
        frame = _picture("P")
        frame.putpalette([0, 0, 0, 200, 30, 30] + [0] * (254 * 3))
        frame.putpixel((index, 0), 0)
        frames.append(frame)
    gif = encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=120,
        loop=0,
        comment=MARKER.encode(),
    )
    return _with_application_extension(gif)
