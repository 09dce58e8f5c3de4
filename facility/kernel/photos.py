"""Photos people send in (residents' requests, patrol findings): checked, cleaned, stored.

A photo from the public is untrusted bytes. :func:`accept_photo` decides what it is by its
content, never by its name or declared type: only JPEG and PNG that Pillow decodes whole are
taken, within a size in bytes and in pixels (a small file can unpack to gigabytes). What is kept
is a new JPEG drawn from the pixels, turned upright and no larger than needed to see a leak:
the camera's metadata (GPS position, device, time) and anything appended to the file (a script
behind a PNG's end) are gone. :class:`PhotoStore` keeps the result under the data directory by a
random key; an S3-compatible store would be another adapter with the same three methods.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES: Final = 5 * 1024 * 1024
"""SPEC section 5: at most 5 MB a photo."""
MAX_PIXELS: Final = 40_000_000
"""A 40-megapixel phone camera is the largest honest photo; more is a decompression bomb."""
MAX_PNG_PIXELS: Final = 16_000_000
"""PNG cannot be decoded at a reduced scale (JPEG can, see ``draft``): a 115 KB all-black
6000 x 6600 PNG took 360 MB to check. Phones take photos as JPEG; a PNG is a screenshot."""
LONGEST_SIDE: Final = 2048
"""Kept photos are scaled down to this: enough to see a crack or a meter."""
KINDS: Final = frozenset({"JPEG", "PNG"})
_KEY: Final = re.compile(r"^[0-9a-f]{32}\.jpg$")


PHOTO_REFUSALS: Final[dict[str, str]] = {
    "photo_empty": "the photo is empty",
    "photo_too_large": "the photo is larger than {mb} MB",
    "photo_too_many_pixels": "the photo has too many pixels",
    "photo_not_a_photo": "the file is not a JPEG or PNG photo",
}
"""Why a photo is refused, by code: the code lets a page say it in the sender's language."""


class PhotoRefusedError(ValueError):
    """The bytes are not a photo we take; the message says why, in words for the sender, and
    ``code`` (a key of :data:`PHOTO_REFUSALS`) with ``params`` lets a page translate it."""

    def __init__(self, code: str, **params: int | str) -> None:
        super().__init__(PHOTO_REFUSALS[code].format(**params))
        self.code = code
        self.params = params


def accept_photo(
    data: bytes, max_bytes: int = MAX_PHOTO_BYTES, longest_side: int = LONGEST_SIDE
) -> bytes:
    """The photo to keep (a clean JPEG), or :class:`PhotoRefusedError`. Pure: bytes in, bytes
    out."""
    if not data:
        raise PhotoRefusedError("photo_empty")
    if len(data) > max_bytes:
        raise PhotoRefusedError("photo_too_large", mb=max_bytes // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=sorted(KINDS)) as probe:
                limit = MAX_PNG_PIXELS if probe.format == "PNG" else MAX_PIXELS
                if probe.width * probe.height > limit:
                    raise PhotoRefusedError("photo_too_many_pixels")
                probe.verify()  # the whole file's structure (PNG checksums), before decoding
            with Image.open(io.BytesIO(data), formats=sorted(KINDS)) as image:
                # a JPEG is decoded at the smallest 1/2, 1/4 or 1/8 scale still larger than
                # what is kept: a 40 MP photo costs a few MB, not 120
                image.draft("RGB", (longest_side, longest_side))
                image.load()
                image.thumbnail((longest_side, longest_side))
                upright = ImageOps.exif_transpose(image)
                pixels = upright.convert("RGB")
    except PhotoRefusedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefusedError("photo_too_many_pixels") from None
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise PhotoRefusedError("photo_not_a_photo") from None
    pixels.thumbnail((longest_side, longest_side))
    kept = io.BytesIO()
    pixels.save(kept, "JPEG", quality=85, optimize=True)  # no exif, no icc, nothing appended
    return kept.getvalue()


class PhotoStore:
    """Photos as files under ``root``, by random key (``<32 hex>.jpg``). A key that is not one
    of ours is refused before the file system sees it, so no caller can reach another path."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise KeyError(f"no photo {key!r}")
        return self._root / key[:2] / key

    def save(self, photo: bytes) -> str:
        """Store an accepted photo; its key. Written whole or not at all (rename)."""
        key = f"{secrets.token_hex(16)}.jpg"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(photo)
        partial.replace(path)
        return key

    def open(self, key: str) -> bytes:
        """The photo's bytes; KeyError when there is none."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(f"no photo {key!r}") from None

    def delete(self, key: str) -> None:
        """Gone, if it was there."""
        try:
            self._path(key).unlink(missing_ok=True)
        except KeyError:
            return
