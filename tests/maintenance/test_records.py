"""The maintenance record's CSV: a byte-order mark for Excel, Chinese headings on request, and no
cell that Excel would run as a formula."""

from __future__ import annotations

import csv
import io

from facility_dispatch.maintenance.records import COLUMNS, RecordLine, to_csv


def _line(**values: str) -> RecordLine:
    return RecordLine({c: values.get(c, "") for c in COLUMNS})


def test_the_csv_opens_in_excel_as_utf8_with_every_column() -> None:
    data = to_csv([_line(number="WO-2026-000001", title="门机异响", items="a: done\nb: done")])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0]["title"] == "门机异响" and rows[0]["items"] == "a: done\nb: done"
    assert list(rows[0]) == list(COLUMNS)
    zh = to_csv([], headings="zh").decode("utf-8-sig")
    assert zh.startswith("工单号,类别,内容,") and "安全管理员签字" in zh


def test_a_cell_that_would_be_a_formula_is_shown_as_text() -> None:
    data = to_csv([_line(title='=HYPERLINK("http://x")', result="+1", parts="-2", number="@a")])
    (row,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert row["title"] == '\'=HYPERLINK("http://x")'
    assert (row["result"], row["parts"], row["number"]) == ("'+1", "'-2", "'@a")
