"""Photos are taken by their content, cleaned of metadata and stored by random key."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from facility_dispatch.kernel.photos import PhotoRefusedError, PhotoStore, accept_photo


def photo(kind: str = "PNG", size: tuple[int, int] = (64, 48), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "PhoneMaker"  # Make
        tags[0x0132] = "2026:11:29 08:00:00"  # DateTime
        image.save(out, kind, exif=tags)
    else:
        image.save(out, kind)
    return out.getvalue()


def test_a_jpeg_loses_its_metadata_and_comes_back_as_jpeg() -> None:
    original = photo("JPEG", exif=True)
    assert b"PhoneMaker" in original
    kept = accept_photo(original)
    assert b"PhoneMaker" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert not image.getexif()


def test_a_large_photo_is_scaled_down() -> None:
    kept = accept_photo(photo("PNG", (4000, 1000)), longest_side=2048)
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (2048, 512)


def test_a_script_appended_to_a_png_is_not_kept() -> None:
    polyglot = photo("PNG") + b"<script>alert(1)</script>"
    kept = accept_photo(polyglot)
    assert b"<script>" not in kept


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<script>alert(1)</script>", "not a JPEG or PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>", "not a JPEG or PNG"),
        (photo("PNG")[:60], "not a JPEG or PNG"),  # cut short
        (photo("GIF"), "not a JPEG or PNG"),
        (b"\xff" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
    ],
)
def test_what_is_not_a_photo_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(PhotoRefusedError, match=reason):
        accept_photo(data)


def test_a_decompression_bomb_is_refused() -> None:
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # 100 megapixels in a few kB
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(PhotoRefusedError, match="too many pixels"):
        accept_photo(bomb.getvalue())


def test_a_png_under_the_general_limit_but_huge_to_decode_is_refused() -> None:
    """6000 x 6600 black pixels are 115 KB as a PNG and 360 MB to decode: PNG, which cannot
    be decoded at a reduced scale, has a lower limit than JPEG."""
    small = io.BytesIO()
    Image.new("L", (6000, 6600)).save(small, "PNG")
    assert len(small.getvalue()) < 200_000
    with pytest.raises(PhotoRefusedError, match="too many pixels"):
        accept_photo(small.getvalue())


def test_a_big_jpeg_is_decoded_small_and_kept_upright() -> None:
    tags = Image.Exif()
    tags[0x0112] = 6  # the phone was held on its side: turn 90 degrees to show it
    big = io.BytesIO()
    Image.new("RGB", (6000, 4000), (10, 120, 10)).save(big, "JPEG", exif=tags, quality=50)
    kept = accept_photo(big.getvalue(), longest_side=2048)
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (1365, 2048)  # upright, longest side 2048


def test_the_store_saves_opens_deletes_and_refuses_foreign_keys(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    key = store.save(b"jpeg bytes")
    assert store.open(key) == b"jpeg bytes"
    assert store.save(b"other") != key
    store.delete(key)
    with pytest.raises(KeyError):
        store.open(key)
    store.delete(key)  # twice is fine
    for foreign in ("../facility.db", "/etc/passwd", key.upper(), key + "/.."):
        with pytest.raises(KeyError):
            store.open(foreign)
