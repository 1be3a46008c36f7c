"""Evidence photos: checked, and re-encoded from their pixels alone, so that nothing the
camera wrote (place, time, device, owner) is kept."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from zhenggai.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2400  # larger photos are scaled down: evidence, not archives
MAX_PHOTOS = 6


@dataclass(frozen=True)
class CleanPhoto:
    name: str
    data: bytes
    content_type: str
    width: int
    height: int


def clean(data: bytes) -> CleanPhoto:
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("A photo may be at most %(n)s MB."), n=MAX_BYTES // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ("JPEG", "PNG", "WEBP"):
                    raise InvalidInput(_("A photo must be a JPEG, PNG or WebP image."))
                if probe.width * probe.height > MAX_PIXELS:
                    raise InvalidInput(_("This photo has too many pixels."))
                probe.verify()
            im = Image.open(io.BytesIO(data))
            im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(_("This file is not a readable image.")) from None
    # Turn it the way the camera meant, then copy the pixels into a new image: the copy has
    # no EXIF, XMP, ICC or text chunks to carry over.
    im = ImageOps.exif_transpose(im)
    png = im.format == "PNG" or im.mode in ("RGBA", "LA", "P")
    im = im.convert("RGBA" if png else "RGB")
    im.thumbnail((MAX_SIDE, MAX_SIDE))
    bare = Image.frombytes(im.mode, im.size, im.tobytes())
    out = io.BytesIO()
    if png:
        bare.save(out, "PNG", optimize=True)
    else:
        bare.save(out, "JPEG", quality=85)
    ext, ctype = ("png", "image/png") if png else ("jpg", "image/jpeg")
    return CleanPhoto(f"{secrets.token_hex(8)}.{ext}", out.getvalue(), ctype, *bare.size)
