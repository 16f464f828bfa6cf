"""Re-encode image documents without metadata so nothing in them identifies the reporter.

Photos sent as Telegram "photos" are re-compressed by Telegram, but images sent as documents keep
GPS coordinates, camera make and model, timestamps, XMP and comments. Before staff see such a
file we decode it, keep only the pixels (upright, in sRGB) and encode a brand-new file. No
Telegram here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath

from PIL import Image, ImageCms, ImageOps
from PIL.ExifTags import GPS, IFD, Base

MAX_INPUT_BYTES = 20 * 1024 * 1024
"""Telegram bots can download at most 20 MB."""

MAX_PIXELS = 40_000_000
"""Larger pictures are refused: a small file can decode to gigabytes (decompression bomb)."""

JPEG_QUALITY = 90

_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
"""What Pillow opens without plugins; everything else (HEIC, SVG, PDF...) is refused."""

_MIME_TYPES = frozenset(
    {
        "image/jpeg",
        "image/jpg",
        "image/pjpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/bmp",
        "image/x-bmp",
        "image/x-ms-bmp",
        "image/tiff",
    }
)
_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
)
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


@dataclass(frozen=True)
class CleanImage:
    """A freshly encoded image holding only pixels, and what was taken out of the original."""

    content: bytes
    mime_type: str
    file_name: str
    width: int
    height: int
    removed: tuple[str, ...]


def is_image(mime_type: str | None, file_name: str | None) -> bool:
    """Whether a document looks like an image we can clean, by MIME type or by file extension."""
    mime = (mime_type or "").split(";", 1)[0].strip().lower()
    extension = PurePosixPath((file_name or "").replace("\\", "/")).suffix.lower()
    return mime in _MIME_TYPES or extension in _EXTENSIONS


def strip_metadata(content: bytes, file_name: str | None = None) -> CleanImage:
    """Re-encode an image from its pixels alone; raises NotAnImageError when it cannot."""
    if not content:
        raise NotAnImageError("empty file")
    if len(content) > MAX_INPUT_BYTES:
        raise NotAnImageError("file too large")
    try:
        with _open(content) as source:
            removed = _found_metadata(source)
            clean, as_png = _pixels_only(source)
    except NotAnImageError:
        raise
    except Exception as exc:
        raise NotAnImageError("cannot decode image") from exc
    return CleanImage(
        content=_encode(clean, as_png),
        mime_type="image/png" if as_png else "image/jpeg",
        file_name=_safe_stem(file_name) + (".png" if as_png else ".jpg"),
        width=clean.width,
        height=clean.height,
        removed=removed,
    )


def _open(content: bytes) -> Image.Image:
    """Open and decode the first frame, refusing decompression bombs before decoding."""
    try:
        image = Image.open(BytesIO(content), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NotAnImageError("image too large") from exc
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise NotAnImageError("image too large")
    try:
        image.load()
    except Exception:
        image.close()
        raise
    return image


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


def _safe_stem(file_name: str | None) -> str:
    """The original name without folders or extension, in plain ASCII letters, digits and ._-."""
    stem = PurePosixPath((file_name or "").replace("\\", "/")).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._-")[:64].rstrip("._-")
    return cleaned or "image"
