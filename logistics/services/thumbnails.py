"""Photo thumbnails: small upright JPEGs that carry none of the photo's metadata (no GPS).

Made with Pillow when a photo is stored. The original stays byte for byte as it came: it is the
evidence. A thumbnail is only a picture of it, safe to show and to print.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from PIL import Image, ImageOps

EDGE = 320  # pixels on the long side
QUALITY = 80
# Pillow opens only these: no plugin that hands the file to another program (EPS runs
# Ghostscript). HEIC needs a plugin Pillow lacks: such photos are kept without a thumbnail.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
WHITE = (255, 255, 255)

log = logging.getLogger(__name__)


def make_thumbnail(path: Path, edge: int = EDGE) -> bytes | None:
    """Return a JPEG of the photo at most edge px long, upright and without metadata, or None.

    None when Pillow cannot read the file (damaged, not a photo, or a decompression bomb past
    Pillow's own pixel limit): the file is still kept as evidence, only without a picture.
    """
    try:
        with Image.open(path, formats=FORMATS) as image:
            # A JPEG decodes straight at a fraction of its size: a 12 MP photo in a few ms.
            image.draft("RGB", (edge, edge))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((edge, edge))
            return _bare_jpeg(upright)
    except Exception as error:  # a damaged or hostile file can make a decoder raise anything
        log.info("No thumbnail for %s: %s", path.name, error.__class__.__name__)
        return None


def _bare_jpeg(image: Image.Image) -> bytes:
    """Encode the pixels alone as JPEG: a fresh image holds no EXIF, GPS, ICC or comment."""
    rgba = image.convert("RGBA")
    bare = Image.new("RGB", rgba.size, WHITE)
    bare.paste(rgba, mask=rgba.getchannel("A"))  # transparency shows as white, not black
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
