"""Re-encode image documents without metadata so nothing in them identifies the reporter.

Photos sent as Telegram "photos" are re-compressed by Telegram, but images sent as documents keep
GPS coordinates, camera make and model, timestamps, XMP and comments, whatever their name or MIME
type says. Images are recognised by their content; HEIC/HEIF (iPhone photos) is opened with
pillow-heif. Before staff see such a file we decode it, keep only the pixels (upright, in sRGB)
and encode a brand-new JPEG or PNG. Decoding is bounded: the declared size is checked before any
pixel is decoded, and large JPEGs are decoded at a reduced scale. No Telegram here.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import pillow_heif
from PIL import Image, ImageCms, ImageOps
from PIL.ExifTags import GPS, IFD, Base

pillow_heif.register_heif_opener()
pillow_heif.options.DECODE_THREADS = 1
"""HEIC/HEIF opens like any other format; one thread per decode, as cleanings are bounded."""

MAX_INPUT_BYTES = 20 * 1024 * 1024
"""Telegram bots can download at most 20 MB."""

DEFAULT_MAX_PIXELS = 12_000_000
"""Pixels decoded at most (settings.image_max_pixels): a small file can decode to gigabytes."""

_JPEG_SCALES = (1, 2, 4, 8)
"""JPEG can be decoded at these reductions directly, without decoding the full picture."""

JPEG_QUALITY = 90

_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF")
"""What we clean; everything else (SVG, PDF, PSD, EPS...) is not treated as an image here."""
_LOSSLESS_FORMATS = frozenset({"PNG", "GIF"})
"""Usually screenshots or graphics: kept lossless so text stays readable."""

_CAMERA_TAGS = frozenset(
    {
        Base.Make,
        Base.Model,
        Base.LensMake,
        Base.LensModel,
        Base.BodySerialNumber,
        Base.LensSerialNumber,
        Base.CameraOwnerName,
    }
)
_DATE_TAGS = frozenset(
    {
        Base.DateTime,
        Base.DateTimeOriginal,
        Base.DateTimeDigitized,
        Base.OffsetTime,
        Base.OffsetTimeOriginal,
        Base.OffsetTimeDigitized,
        Base.SubsecTime,
        Base.SubsecTimeOriginal,
        Base.SubsecTimeDigitized,
    }
)
_LAYOUT_TAGS = frozenset(
    {
        Base.ImageWidth,
        Base.ImageLength,
        Base.BitsPerSample,
        Base.Compression,
        Base.PhotometricInterpretation,
        Base.FillOrder,
        Base.StripOffsets,
        Base.Orientation,
        Base.SamplesPerPixel,
        Base.RowsPerStrip,
        Base.StripByteCounts,
        Base.XResolution,
        Base.YResolution,
        Base.PlanarConfiguration,
        Base.ResolutionUnit,
        Base.Predictor,
        Base.ColorMap,
        Base.TileWidth,
        Base.TileLength,
        Base.TileOffsets,
        Base.TileByteCounts,
        Base.ExtraSamples,
        Base.SampleFormat,
        Base.JPEGTables,
        Base.YCbCrCoefficients,
        Base.YCbCrSubSampling,
        Base.YCbCrPositioning,
        Base.ExifOffset,
        Base.GPSInfo,
        IFD.Interop,
        Base.InterColorProfile,
        Base.ExifVersion,
        Base.FlashPixVersion,
        Base.ColorSpace,
        Base.ComponentsConfiguration,
        Base.ExifImageWidth,
        Base.ExifImageHeight,
    }
)
"""Tags that only describe how pixels are stored (or were applied): not worth telling the user."""

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_OTHER_INFO_KEYS = ("comment", "xmp", "XML:com.adobe.xmp", "photoshop", "iptc")
_GIF_LOOP_EXTENSIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_REPORT_ORDER = ("GPS", "camera", "date", "other EXIF", "other")


class NotAnImageError(ValueError):
    """Not an image we can clean (wrong type, broken, too large)."""


class ImageTooLargeError(NotAnImageError):
    """More pixels (or bytes) than we decode: refused before decoding."""


@dataclass(frozen=True)
class CleanImage:
    """A freshly encoded image holding only pixels, and what was taken out of the original."""

    content: bytes
    mime_type: str
    extension: str
    width: int
    height: int
    removed: tuple[str, ...]
    source_format: str


def recognise(content: bytes) -> str | None:
    """The image format the bytes hold (JPEG, PNG, HEIF...), from the header alone, or None.

    Names and MIME types are chosen by the sender's app and prove nothing: a phone photo named
    `x.bin` still carries its GPS position. Opening is lazy, so no pixel is decoded here.
    Raises ImageTooLargeError for a header Pillow itself calls a decompression bomb: it is an
    image, and must never pass as an ordinary document.
    """
    if not content:
        return None
    try:
        with Image.open(BytesIO(content), formats=_FORMATS) as image:
            return image.format
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError("image too large") from exc
    except Exception:
        return None


def strip_metadata(content: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> CleanImage:
    """Re-encode an image from its pixels alone; raises NotAnImageError when it cannot."""
    if not content:
        raise NotAnImageError("empty file")
    if len(content) > MAX_INPUT_BYTES:
        raise ImageTooLargeError("file too large")
    try:
        with _open(content, max_pixels) as source:
            source_format = source.format or ""
            removed = _found_metadata(source)
            clean, as_png = _pixels_only(source)
    except NotAnImageError:
        raise
    except Exception as exc:
        raise NotAnImageError("cannot decode image") from exc
    return CleanImage(
        content=_encode(clean, as_png),
        mime_type="image/png" if as_png else "image/jpeg",
        extension="png" if as_png else "jpg",
        width=clean.width,
        height=clean.height,
        removed=removed,
        source_format=source_format,
    )


def _open(content: bytes, max_pixels: int) -> Image.Image:
    """Open and decode the first frame, refusing decompression bombs before decoding.

    The size in the header is checked first (opening is lazy); a JPEG larger than the limit is
    decoded at 1/2, 1/4 or 1/8 scale when that fits, every other format is refused.
    """
    try:
        image = Image.open(BytesIO(content), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError("image too large") from exc
    try:
        if image.width * image.height > max_pixels and image.format in ("JPEG", "MPO"):
            _reduce_while_reading(image, max_pixels)
        if image.width * image.height > max_pixels:
            raise ImageTooLargeError("image too large")
        image.load()
    except Exception:
        image.close()
        raise
    return image


def _reduce_while_reading(image: Image.Image, max_pixels: int) -> None:
    """Ask the JPEG decoder for the least reduction that fits the pixel limit (Image.draft)."""
    for scale in _JPEG_SCALES:
        decoded = (-(-image.width // scale), -(-image.height // scale))
        if decoded[0] * decoded[1] <= max_pixels:
            image.draft(image.mode, (max(1, image.width // scale), max(1, image.height // scale)))
            return


def _pixels_only(source: Image.Image) -> tuple[Image.Image, bool]:
    """The upright sRGB pixels in a brand-new image, and whether to store them as PNG."""
    upright = _to_srgb(ImageOps.exif_transpose(source))
    as_png = source.format in _LOSSLESS_FORMATS or (source.format == "WEBP" and _has_alpha(upright))
    return _fresh_copy(_for_png(upright) if as_png else _for_jpeg(upright)), as_png


def _found_metadata(image: Image.Image) -> tuple[str, ...]:
    """Human-readable kinds of identifying metadata present in the original image."""
    found = _exif_kinds(image)
    if _has_other_metadata(image):
        found.add("other")
    return tuple(kind for kind in _REPORT_ORDER if kind in found)


def _exif_kinds(image: Image.Image) -> set[str]:
    """Which kinds of EXIF data the image carries (GPS, camera, date, other EXIF)."""
    try:
        exif = image.getexif()
        tags = set(exif) | set(exif.get_ifd(IFD.Exif))
        gps = set(exif.get_ifd(IFD.GPSInfo)) - {GPS.GPSVersionID}
    except Exception:
        return {"other EXIF"} if image.info.get("exif") else set()
    kinds = {"GPS"} if gps else set()
    if tags & _CAMERA_TAGS:
        kinds.add("camera")
    if tags & _DATE_TAGS:
        kinds.add("date")
    if tags - _CAMERA_TAGS - _DATE_TAGS - _LAYOUT_TAGS:
        kinds.add("other EXIF")
    return kinds


def _has_other_metadata(image: Image.Image) -> bool:
    """Whether XMP, comments, Photoshop/IPTC blocks, PNG text or GIF extensions are present."""
    if any(image.info.get(key) for key in _OTHER_INFO_KEYS):
        return True
    extension = image.info.get("extension")
    if extension and not bytes(extension[0]).startswith(_GIF_LOOP_EXTENSIONS):
        return True
    return image.format == "PNG" and not getattr(image, "is_animated", False) and bool(image.text)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colours from an embedded ICC profile to sRGB, so dropping the profile is safe."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    colour = image.convert("RGB") if alpha is not None else image
    try:
        converted = ImageCms.profileToProfile(
            colour,
            ImageCms.ImageCmsProfile(BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return image
    if converted is None:
        return image
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16-bit greyscale down to 8 bits instead of clipping it to white."""
    wide = image.convert("I") if image.mode.startswith("I;16") else image
    scale = 1 / 257 if wide.getextrema()[1] > 255 else 1
    return wide.point(lambda value: value * scale).convert("L")


def _has_alpha(image: Image.Image) -> bool:
    """Whether any pixel is actually (partly) transparent."""
    if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
        return False
    return _with_alpha(image).getchannel("A").getextrema()[0] < 255


def _base_mode(image: Image.Image) -> str:
    """L for greyscale sources, RGB for everything else."""
    return "L" if image.mode in ("1", "L", "LA", "La") or image.mode.startswith("I") else "RGB"


def _with_alpha(image: Image.Image) -> Image.Image:
    """The image as LA or RGBA, transparency from palettes or tRNS applied."""
    mode = _base_mode(image) + "A"
    return image if image.mode == mode else image.convert(mode)


def _opaque(image: Image.Image) -> Image.Image:
    """The image as 8-bit L or RGB, any transparency ignored."""
    if image.mode.startswith("I") or image.mode == "F":
        return _to_8bit(image)
    mode = _base_mode(image)
    return image if image.mode == mode else image.convert(mode)


def _for_png(image: Image.Image) -> Image.Image:
    """Pixels PNG stores losslessly: L, LA, RGB or RGBA, alpha only when it is used."""
    return _with_alpha(image) if _has_alpha(image) else _opaque(image)


def _for_jpeg(image: Image.Image) -> Image.Image:
    """Pixels JPEG can hold: L or RGB, transparent parts composited on white."""
    if not _has_alpha(image):
        return _opaque(image)
    translucent = _with_alpha(image)
    background = Image.new(_base_mode(image), image.size, "white")
    background.paste(translucent.convert(background.mode), mask=translucent.getchannel("A"))
    return background


def _fresh_copy(image: Image.Image) -> Image.Image:
    """A new image with the same pixels and nothing else: no info, EXIF, ICC, XMP or text."""
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh


def _encode(image: Image.Image, as_png: bool) -> bytes:
    """Encode as PNG or JPEG without passing any metadata to the encoder."""
    out = BytesIO()
    if as_png:
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
