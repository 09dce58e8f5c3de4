"""An estate's name as each reader is shown it: the part in their language, the office's own
English name first, and never no name at all."""

from __future__ import annotations

import pytest

from facility_dispatch.maintenance.names import Language, site_name, site_parts
from facility_dispatch.maintenance.people import Site


@pytest.mark.parametrize(
    ("name", "name_en", "lang", "shown"),
    [
        ("绿园 Green Garden", None, "zh", "绿园"),
        ("绿园 Green Garden", None, "en", "Green Garden"),
        ("绿园", "Green Garden", "en", "Green Garden"),
        ("绿园", "Green Garden", "zh", "绿园"),
        ("绿园 Green Gdn", "Green Garden Estate", "en", "Green Garden Estate"),
        ("绿园 Green Garden", " ", "en", "Green Garden"),  # blank: not a name
        ("绿园", None, "en", "绿园"),  # no English at all: still its name
        ("Green Garden", None, "zh", "Green Garden"),
        ("Green Garden", "Green Garden", "zh", "Green Garden"),
        ("3号院 B区", None, "en", "3号院 B区"),  # codes are no English
    ],
)
def test_each_reader_is_shown_the_estates_name_in_their_language(
    name: str, name_en: str | None, lang: Language, shown: str
) -> None:
    assert site_name(name, name_en, lang) == shown
    site = Site("green", name, "Asia/Shanghai", "zh-CN", None, {}, {}, (), name_en=name_en)
    assert site.named(lang) == shown


def test_the_parts_of_a_name_are_empty_where_it_has_none() -> None:
    assert site_parts("绿园") == ("绿园", "")
    assert site_parts("Green Garden") == ("", "Green Garden")
    assert site_parts("绿园", "Green Garden") == ("绿园", "Green Garden")
