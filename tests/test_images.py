"""Image documents lose every trace of metadata but keep their pixels upright."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image, ImageCms, ImageFile
from PIL.ExifTags import GPS, IFD, Base
from PIL.PngImagePlugin import PngInfo

from bot.cases.services import images
from bot.cases.services.images import CleanImage, NotAnImageError, recognise, strip_metadata

MAKE = "AcmeSnoopCam"
MODEL = "Informant X9"
AUTHOR = "Arben Reporter"
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def _encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    """Encode a test image in memory."""
    out = BytesIO()
    image.save(out, format=image_format, **params)
    return out.getvalue()


def _identifying_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: GPS position, camera, capture time and orientation."""
    exif = Image.Exif()
    exif[Base.Make] = MAKE
    exif[Base.Model] = MODEL
    exif[Base.Orientation] = orientation
    exif[IFD.Exif] = {Base.DateTimeOriginal: "2024:05:01 10:11:12"}
    exif[IFD.GPSInfo] = {
        GPS.GPSLatitudeRef: "N",
        GPS.GPSLatitude: (41.0, 19.0, 48.0),
        GPS.GPSLongitudeRef: "E",
        GPS.GPSLongitude: (19.0, 49.0, 5.0),
    }
    return exif


def _phone_jpeg() -> bytes:
    """A 40x20 JPEG stored sideways (orientation 6) with a red top-left corner and full EXIF."""
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 10, 10))
    return _encode(image, "JPEG", exif=_identifying_exif(orientation=6), quality=95)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only declares its size: enough for Pillow to open, nothing to decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def _reopen(clean: CleanImage) -> Image.Image:
    """Decode the cleaned output, fully loaded."""
    image = Image.open(BytesIO(clean.content))
    image.load()
    return image


def _close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 24) -> bool:
    """Whether a lossy pixel is near the expected colour."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def test_fixture_jpeg_really_carries_identifying_exif() -> None:
    """Guard: the test photo has what the cleaner must remove."""
    exif = Image.open(BytesIO(_phone_jpeg())).getexif()
    assert exif[Base.Make] == MAKE
    assert exif.get_ifd(IFD.GPSInfo)[GPS.GPSLatitudeRef] == "N"
    assert exif.get_ifd(IFD.Exif)[Base.DateTimeOriginal].startswith("2024")


def test_jpeg_loses_all_exif_and_reports_it() -> None:
    """GPS, camera and date are gone from the bytes and named in `removed`."""
    clean = strip_metadata(_phone_jpeg())
    out = _reopen(clean)
    assert out.format == "JPEG"
    assert clean.mime_type == "image/jpeg"
    assert clean.extension == "jpg"
    assert not out.getexif()
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(out.info)
    for marker in (b"Exif", b"GPS", MAKE.encode(), MODEL.encode(), b"2024:05:01"):
        assert marker not in clean.content
    assert clean.removed == ("GPS", "camera", "date")


def test_jpeg_orientation_is_applied() -> None:
    """Orientation 6 means rotate 90° clockwise: the top-left corner ends up top-right."""
    clean = strip_metadata(_phone_jpeg())
    out = _reopen(clean)
    assert (clean.width, clean.height) == out.size == (20, 40)
    assert _close(out.getpixel((19, 0)), RED)
    assert _close(out.getpixel((0, 0)), BLUE)


def test_plain_jpeg_reports_nothing_removed() -> None:
    """A JPEG without metadata stays JPEG and nothing is claimed to be removed."""
    clean = strip_metadata(_encode(Image.new("RGB", (8, 8), RED), "JPEG"))
    assert clean.removed == ()
    assert clean.extension == "jpg"


def test_png_keeps_alpha_and_loses_text_chunks() -> None:
    """Text chunks are dropped, transparency is kept, and the output stays PNG."""
    image = Image.new("RGBA", (12, 10), (*RED, 255))
    image.paste((0, 0, 255, 0), (0, 0, 6, 10))
    info = PngInfo()
    info.add_text("Author", AUTHOR)
    info.add_itxt("Comment", "taken at the ministry", zip=True)
    clean = strip_metadata(_encode(image, "PNG", pnginfo=info))
    out = _reopen(clean)
    assert (out.format, out.mode, clean.mime_type, clean.extension) == (
        "PNG",
        "RGBA",
        "image/png",
        "png",
    )
    assert out.text == {}
    for marker in (b"tEXt", b"iTXt", b"zTXt", AUTHOR.encode()):
        assert marker not in clean.content
    assert out.getpixel((0, 0))[3] == 0
    assert out.getpixel((11, 0)) == (*RED, 255)
    assert clean.removed == ("other",)


def test_animated_gif_becomes_its_first_frame() -> None:
    """Only the first frame of an animation is kept, as a PNG."""
    frames = [Image.new("RGB", (8, 8), colour).convert("P") for colour in (RED, BLUE)]
    content = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)
    assert Image.open(BytesIO(content)).n_frames == 2
    clean = strip_metadata(content)
    out = _reopen(clean)
    assert (out.format, clean.extension) == ("PNG", "png")
    assert not getattr(out, "is_animated", False)
    assert out.convert("RGB").getpixel((0, 0)) == RED
    assert clean.removed == ()


def test_gif_comment_is_reported() -> None:
    """A GIF comment counts as other metadata."""
    content = _encode(Image.new("P", (4, 4)), "GIF", comment=AUTHOR.encode())
    clean = strip_metadata(content)
    assert clean.removed == ("other",)
    assert AUTHOR.encode() not in clean.content


def test_cmyk_jpeg_becomes_rgb() -> None:
    """Print-style CMYK pictures come out as ordinary RGB JPEGs with the same colours."""
    content = _encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")
    out = _reopen(strip_metadata(content))
    assert (out.format, out.mode) == ("JPEG", "RGB")
    assert _close(out.getpixel((4, 4)), RED)


def test_icc_profile_is_not_copied() -> None:
    """The colour profile is applied, not carried over."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = _encode(Image.new("RGB", (8, 8), RED), "JPEG", icc_profile=srgb)
    out = _reopen(strip_metadata(content))
    assert "icc_profile" not in out.info
    assert _close(out.getpixel((4, 4)), RED)


def test_webp_with_alpha_becomes_png_and_without_becomes_jpeg() -> None:
    """WebP keeps transparency as PNG; opaque WebP is a photo and becomes JPEG."""
    exif = _identifying_exif()
    translucent = _encode(Image.new("RGBA", (8, 8), (*RED, 0)), "WEBP", exif=exif, lossless=True)
    opaque = _encode(Image.new("RGB", (8, 8), RED), "WEBP", exif=exif)
    assert strip_metadata(translucent).mime_type == "image/png"
    clean = strip_metadata(opaque)
    assert (clean.mime_type, clean.extension) == ("image/jpeg", "jpg")
    assert clean.removed == ("GPS", "camera", "date")
    assert MAKE.encode() not in clean.content


def test_tiff_with_artist_tag_becomes_jpeg() -> None:
    """TIFF tags beyond pixel layout (here the artist's name) count as other EXIF."""
    content = _encode(Image.new("RGB", (8, 8), RED), "TIFF", tiffinfo={Base.Artist: AUTHOR})
    clean = strip_metadata(content)
    assert (clean.mime_type, clean.extension, clean.removed) == (
        "image/jpeg",
        "jpg",
        ("other EXIF",),
    )
    assert AUTHOR.encode() not in clean.content


def test_transparent_tiff_is_composited_on_white() -> None:
    """JPEG has no alpha: transparent parts of a non-PNG source turn white."""
    content = _encode(Image.new("LA", (8, 8), (0, 0)), "TIFF")
    out = _reopen(strip_metadata(content))
    assert (out.format, out.mode) == ("JPEG", "L")
    assert out.getpixel((4, 4)) >= 250


def test_16_bit_greyscale_is_scaled_not_clipped() -> None:
    """Mid-grey in 16 bits stays mid-grey in 8 bits."""
    content = _encode(Image.new("I;16", (8, 8), 32896), "PNG")
    out = _reopen(strip_metadata(content))
    assert out.mode == "L"
    assert out.getpixel((0, 0)) == 128


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"definitely not an image",
        b"%PDF-1.7\n" + bytes(200),
        _encode(Image.new("RGB", (8, 8)), "PPM"),
        _encode(Image.new("RGB", (64, 64), RED), "JPEG")[:200],
        _png_header(20, 20),
    ],
    ids=["empty", "garbage", "pdf", "unsupported-format", "truncated", "no-pixel-data"],
)
def test_broken_or_foreign_files_are_refused(content: bytes) -> None:
    """Anything that is not a decodable JPEG/PNG/WebP/GIF/BMP/TIFF raises NotAnImageError."""
    with pytest.raises(NotAnImageError):
        strip_metadata(content)


@pytest.mark.parametrize(("width", "height"), [(50_000, 50_000), (8_000, 6_000), (4_000, 3_001)])
def test_decompression_bombs_are_refused(width: int, height: int) -> None:
    """Declared sizes beyond the 12 MP default are refused before anything is decoded."""
    with pytest.raises(images.ImageTooLargeError, match="too large"):
        strip_metadata(_png_header(width, height))


def test_max_pixels_is_respected() -> None:
    """The pixel limit (settings.image_max_pixels) applies to real images too."""
    content = _encode(Image.new("RGB", (10, 10)), "PNG")
    with pytest.raises(NotAnImageError, match="too large"):
        strip_metadata(content, max_pixels=99)
    assert strip_metadata(content, max_pixels=100).width == 10


def test_files_over_the_download_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """More bytes than Telegram lets a bot download is refused without decoding."""
    content = _encode(Image.new("RGB", (10, 10)), "PNG")
    monkeypatch.setattr(images, "MAX_INPUT_BYTES", len(content) - 1)
    with pytest.raises(NotAnImageError, match="too large"):
        strip_metadata(content)


def _solid_png(width: int, height: int) -> bytes:
    """A real 1-bit single-colour PNG: tiny on disk, width x height pixels once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(-(-width // 8))
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record the size of every image Pillow is asked to decode."""
    decoded: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> object:
        decoded.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return decoded


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (5_000, 5_000)])
def test_small_png_that_decodes_huge_is_refused_without_decoding(
    monkeypatch: pytest.MonkeyPatch, width: int, height: int
) -> None:
    """A ~50 KiB PNG of 400 MP (or 25 MP, which the old 40 MP cap decoded) is never decoded."""
    content = _solid_png(width, height)
    assert len(content) < 200 * 1024
    decoded = _count_decodes(monkeypatch)
    with pytest.raises(images.ImageTooLargeError):
        strip_metadata(content)
    assert decoded == []


def test_big_jpeg_is_decoded_at_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JPEG above the pixel cap is decoded at 1/2 (Image.draft), never at full size."""
    content = _encode(Image.new("RGB", (2_000, 1_000), RED), "JPEG")
    decoded = _count_decodes(monkeypatch)
    clean = strip_metadata(content, max_pixels=1_000_000)
    assert (clean.width, clean.height) == (1_000, 500)
    assert set(decoded) == {(1_000, 500)}
    assert _close(_reopen(clean).getpixel((500, 250)), RED)


def test_jpeg_too_big_even_at_an_eighth_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond 64 times the cap even the smallest JPEG reduction is too much: nothing decoded."""
    content = _encode(Image.new("L", (1_700, 1_000)), "JPEG")
    decoded = _count_decodes(monkeypatch)
    with pytest.raises(images.ImageTooLargeError):
        strip_metadata(content, max_pixels=25_000)
    assert decoded == []


def _heic(exif: Image.Exif) -> bytes:
    """A small HEIC photo (as an iPhone sends it) carrying the given EXIF."""
    return _encode(Image.new("RGB", (64, 48), RED), "HEIF", exif=exif.tobytes(), quality=90)


def test_heic_becomes_a_jpeg_without_exif() -> None:
    """HEIC (iPhone) photos are opened with pillow-heif and re-encoded without GPS or camera."""
    content = _heic(_identifying_exif())
    assert MAKE.encode() in content
    assert recognise(content) == "HEIF"
    clean = strip_metadata(content)
    out = _reopen(clean)
    assert (out.format, clean.mime_type, clean.source_format) == ("JPEG", "image/jpeg", "HEIF")
    assert not out.getexif()
    assert MAKE.encode() not in clean.content and b"GPS" not in clean.content
    assert "GPS" in clean.removed and "camera" in clean.removed
    assert _close(out.getpixel((32, 24)), RED)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_encode(Image.new("RGB", (4, 4)), "JPEG"), "JPEG"),
        (_encode(Image.new("RGB", (4, 4)), "PNG"), "PNG"),
        (_encode(Image.new("RGB", (4, 4)), "WEBP"), "WEBP"),
        (_encode(Image.new("P", (4, 4)), "GIF"), "GIF"),
        (_encode(Image.new("RGB", (4, 4)), "BMP"), "BMP"),
        (_encode(Image.new("RGB", (4, 4)), "TIFF"), "TIFF"),
        (b"%PDF-1.7\n" + bytes(200), None),
        (b"PK\x03\x04 a docx is a zip", None),
        (_encode(Image.new("RGB", (4, 4)), "PPM"), None),
        (b"", None),
    ],
    ids=["jpeg", "png", "webp", "gif", "bmp", "tiff", "pdf", "docx", "ppm", "empty"],
)
def test_images_are_recognised_by_content(content: bytes, expected: str | None) -> None:
    """The bytes decide, never a name or MIME type (a JPEG named x.bin is still a JPEG)."""
    assert recognise(content) == expected


def test_a_header_pillow_calls_a_bomb_is_still_an_image() -> None:
    """Beyond Pillow's own limit the header is refused as too large, never taken for a document."""
    with pytest.raises(images.ImageTooLargeError):
        recognise(_solid_png(20_000, 20_000))
