"""The register file: good rows read, bad ones named by row and column, the encodings Excel
saves in China (GBK, UTF-8 with a byte-order mark), and files too large."""

from __future__ import annotations

from datetime import date

import pytest

from facility_dispatch.ingest.register import MAX_ERRORS, RegisterFileError, parse

GOOD = (
    "site,asset,kind,name,maker,model,install_date,registration_code,building,floor\n"
    "green,lift-1,elevator,1号楼1号梯,迅达,3300,2019-05-20,梯11沪A0001,1,B1\n"
    "green,lift-2,elevator,,奥的斯,GeN2,2019/5/21,梯11沪A0002,1,\n"
    "green,pump-1,water,,,,,,,\n"
)


def test_a_good_file_gives_every_row() -> None:
    entries = parse(GOOD.encode())
    assert [(e.site, e.asset, e.kind) for e in entries] == [
        ("green", "lift-1", "elevator"),
        ("green", "lift-2", "elevator"),
        ("green", "pump-1", "water"),
    ]
    first, second = entries[0], entries[1]
    assert (first.maker, first.model, first.install_date) == ("迅达", "3300", date(2019, 5, 20))
    assert (first.registration_code, first.building, first.floor) == ("梯11沪A0001", "1", "B1")
    assert (second.name, second.install_date, second.floor) == (None, date(2019, 5, 21), None)


@pytest.mark.parametrize(
    "data",
    [
        GOOD.encode("utf-8-sig"),  # Excel's "CSV UTF-8": a byte-order mark
        GOOD.encode("gbk"),  # Excel's plain "CSV" on a Chinese Windows
        GOOD.replace("\n", "\r\n").encode("gbk"),
    ],
    ids=["utf8-bom", "gbk", "gbk-crlf"],
)
def test_excels_encodings_read_the_same(data: bytes) -> None:
    assert parse(data) == parse(GOOD.encode())


def test_chinese_headings_and_kinds_are_taken() -> None:
    text = "站点,设备编号,类型,制造单位,型号,安装日期,使用登记证编号,楼栋,楼层\n"
    text += "green,lift-1,电梯,迅达,3300,2019年5月20日,梯11沪A0001,1,3\n"
    (entry,) = parse(text.encode("gbk"))
    assert (entry.kind, entry.maker, entry.install_date) == ("elevator", "迅达", date(2019, 5, 20))
    assert entry.registration_code == "梯11沪A0001"


def test_each_bad_row_is_named_with_its_column_and_nothing_is_taken() -> None:
    text = (
        "site,asset,kind,install_date,floor\n"
        "green,lift-1,elevator,2019-05-20,1\n"
        "Green Garden,lift-2,elevator,,\n"  # line 3: not a site name
        "green,lift-3,escalator,,\n"  # line 4: no such kind
        "green,lift-4,elevator,2019-02-30,\n"  # line 5: no such day
        "green,lift-1,elevator,,\n"  # line 6: lift-1 again
        "green,,elevator,,\n"  # line 7: no asset
        f"green,lift-8,elevator,,{'x' * 21}\n"  # line 8: floor too long
    )
    with pytest.raises(RegisterFileError) as refused:
        parse(text.encode())
    assert [(e.row, e.column) for e in refused.value.errors] == [
        (3, "site"),
        (4, "kind"),
        (5, "install_date"),
        (6, "asset"),
        (7, "asset"),
        (8, "floor"),
    ]
    assert str(refused.value).startswith("row 3, column site: 'Green Garden' is not a site name")


@pytest.mark.parametrize(
    ("data", "row", "column", "words"),
    [
        (b"", 1, None, "empty"),
        (b"site,asset\ngreen,lift-1\n", 1, "kind", "required"),
        (b"site,asset,kind,colour\n", 1, "colour", "unknown column"),
        (b"site,asset,kind,asset\n", 1, "asset", "twice"),
        (b"site,asset,kind\n\n", 2, None, "no rows"),
        (b"site,asset,kind\ngreen,lift-1,elevator,extra\n", 2, None, "4 cells"),
        ("site,asset,kind\n".encode("utf-16"), 1, None, "UTF-16"),
        (b"site,asset,kind\n\xff\xfe\xfd,a,b\n", 1, None, "neither UTF-8 nor GBK"),
        (b"site,asset,kind\ngreen,\x00,elevator\n", 1, None, "NUL"),
    ],
)
def test_a_file_that_is_not_a_register_is_refused_saying_why(
    data: bytes, row: int, column: str | None, words: str
) -> None:
    with pytest.raises(RegisterFileError) as refused:
        parse(data)
    first = refused.value.errors[0]
    assert (first.row, first.column) == (row, column)
    assert words in first.message


def test_a_huge_file_is_refused_at_the_row_limit_and_errors_are_bounded() -> None:
    rows = "".join(f"green,lift-{n},elevator\n" for n in range(6_000))
    with pytest.raises(RegisterFileError) as refused:
        parse(("site,asset,kind\n" + rows).encode(), max_rows=5_000)
    assert refused.value.errors[0].message == "more than 5000 rows"
    assert refused.value.errors[0].row == 5_002
    bad = "".join(f"green,lift-{n},rocket\n" for n in range(1_000))
    with pytest.raises(RegisterFileError) as many:
        parse(("site,asset,kind\n" + bad).encode())
    assert len(many.value.errors) == MAX_ERRORS
    assert "(and 99 more)" in str(many.value)
