"""The asset register as a spreadsheet: a CSV file read into register entries, or refused whole.

Pure: bytes in, entries or the list of what is wrong out. A file is checked entirely before
anything is imported, and a file with one bad row imports nothing: a register half-imported
would leave the planner guessing which lifts are in and which are not, and fixing the row and
sending the file again is cheap. Every bad row is reported (up to :data:`MAX_ERRORS`) with its
line number in the file and the column named, so one round trip fixes them all.

Excel in China saves "CSV" as GBK, or as UTF-8 with a byte-order mark ("CSV UTF-8"): both are
read; GB 18030 is used for the former, a superset of GBK.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from facility_dispatch.ingest.topics import ASSET_PATTERN, KINDS, SITE_PATTERN

MAX_ROWS: Final = 5_000
"""Rows one file may hold: a site's assets at most (FACILITY_MAX_ASSETS_PER_SITE's default)."""
MAX_ERRORS: Final = 100
"""Errors reported at most; past them the file is plainly the wrong one."""

COLUMNS: Final = (
    "site",
    "asset",
    "kind",
    "name",
    "maker",
    "model",
    "install_date",
    "registration_code",
    "building",
    "floor",
)
REQUIRED: Final = ("site", "asset", "kind")
LIMITS: Final = {
    "name": 200,
    "maker": 100,
    "model": 100,
    "registration_code": 64,
    "building": 100,
    "floor": 20,
}
"""Longest text each free column takes (the register table's column widths)."""

ALIASES: Final = {
    "站点": "site",
    "项目": "site",
    "设备编号": "asset",
    "设备": "asset",
    "类型": "kind",
    "设备类型": "kind",
    "名称": "name",
    "制造单位": "maker",
    "制造商": "maker",
    "型号": "model",
    "安装日期": "install_date",
    "使用登记证编号": "registration_code",
    "使用登记证": "registration_code",
    "登记证编号": "registration_code",
    "楼栋": "building",
    "楼层": "floor",
}
"""Chinese headings a planner's own sheet is likely to carry, taken as the English names."""

KIND_ALIASES: Final = {"电梯": "elevator", "供水": "water", "水泵": "water", "供电": "power",
                       "配电": "power", "监控": "cctv"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One asset's register data, as a row of the file gave it."""

    site: str
    asset: str
    kind: str
    name: str | None = None
    maker: str | None = None
    model: str | None = None
    install_date: date | None = None
    registration_code: str | None = None
    building: str | None = None
    floor: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong, where: ``row`` is the line in the file (the heading is line 1)."""

    row: int
    column: str | None
    message: str


class RegisterFileError(Exception):
    """The file is refused: nothing of it was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        first = errors[0]
        where = f"row {first.row}" + (f", column {first.column}" if first.column else "")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{where}: {first.message}{more}")


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else GB 18030 (GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegisterFileError(
            [RowError(1, None, "the file is UTF-16; save it as CSV UTF-8 or CSV (GBK)")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RegisterFileError(
            [RowError(1, None, "the file is neither UTF-8 nor GBK text; save it as CSV")]
        ) from None


def parse(data: bytes, max_rows: int = MAX_ROWS) -> list[RegisterEntry]:
    """Every row of the file as an entry, or :class:`RegisterFileError` naming each bad one."""
    text = decode(data)
    if "\x00" in text:
        raise RegisterFileError([RowError(1, None, "the file holds NUL bytes: not a CSV file")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        heading = next(reader, None)
    except csv.Error as error:
        raise RegisterFileError([RowError(1, None, f"not CSV: {error}")]) from None
    if not heading or not any(cell.strip() for cell in heading):
        raise RegisterFileError([RowError(1, None, "the file is empty; the first line names")])
    columns = [ALIASES.get(cell.strip(), cell.strip().lower()) for cell in heading]
    unknown = [c for c in columns if c and c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in columns]
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    problems = [RowError(1, c, f"unknown column (known: {', '.join(COLUMNS)})") for c in unknown]
    problems += [RowError(1, c, "this column is required") for c in missing]
    problems += [RowError(1, c, "this column is given twice") for c in doubled]
    if problems:
        raise RegisterFileError(problems)
    entries: list[RegisterEntry] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # Excel leaves blank lines at the end
            if len(entries) + len(errors) >= max_rows:
                raise RegisterFileError([RowError(line, None, f"more than {max_rows} rows")])
            entry = _entry(line, columns, cells, errors)
            if entry is None:
                continue
            key = (entry.site, entry.asset)
            if key in seen:
                errors.append(RowError(line, "asset", f"{key[0]}/{key[1]} is on row {seen[key]}"))
                continue
            seen[key] = line
            entries.append(entry)
            if len(errors) >= MAX_ERRORS:
                break
    except csv.Error as error:
        errors.append(RowError(reader.line_num, None, f"not CSV: {error}"))
    if errors:
        raise RegisterFileError(errors[:MAX_ERRORS])
    if not entries:
        raise RegisterFileError([RowError(2, None, "the file has a heading and no rows")])
    return entries


def _entry(
    line: int, columns: list[str], cells: list[str], errors: list[RowError]
) -> RegisterEntry | None:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        errors.append(RowError(line, None, f"{len(cells)} cells under {len(columns)} headings"))
        return None
    values = {c: cell.strip() for c, cell in zip(columns, cells, strict=False) if c}
    before = len(errors)
    for column in REQUIRED:
        if not values.get(column):
            errors.append(RowError(line, column, "empty; it is required"))
    site, asset = values.get("site", ""), values.get("asset", "")
    if site and not SITE_PATTERN.fullmatch(site):
        errors.append(RowError(line, "site", f"{site[:40]!r} is not a site name"))
    if asset and not ASSET_PATTERN.fullmatch(asset):
        errors.append(RowError(line, "asset", f"{asset[:40]!r} is not an asset name"))
    kind = KIND_ALIASES.get(values.get("kind", ""), values.get("kind", "").lower())
    if kind and kind not in KINDS:
        errors.append(RowError(line, "kind", f"{kind[:40]!r} is not one of {', '.join(KINDS)}"))
    for column, limit in LIMITS.items():
        if len(values.get(column, "")) > limit:
            errors.append(RowError(line, column, f"longer than {limit} characters"))
    installed = None
    if values.get("install_date"):
        installed = _date(values["install_date"])
        if installed is None:
            errors.append(
                RowError(line, "install_date", f"{values['install_date'][:40]!r} is no date")
            )
    if len(errors) > before:
        return None
    return RegisterEntry(
        site,
        asset,
        kind,
        values.get("name") or None,
        values.get("maker") or None,
        values.get("model") or None,
        installed,
        values.get("registration_code") or None,
        values.get("building") or None,
        values.get("floor") or None,
    )


_DATE: Final = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def _date(text: str) -> date | None:
    """2019-05-20, 2019/5/20 (Excel's own), 2019.5.20 or 2019年5月20日."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
