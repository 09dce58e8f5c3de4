"""Names written in two languages, and which part a reader of each language is shown.

Estates, plans and orders are often named "中文 English" in one field ("绿园 Green Garden",
"水箱清洗 Tank cleaning"). A site may also carry its own English name (``name_en``), which
then wins over the English cut out of its name: a splitter guesses, the office knows.
Pure functions over plain text, so each wording is tested without a database.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Language = Literal["zh", "en"]

_CJK: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EDGES: Final = " /|:;,-\u2013\u2014"  # and the en and em dashes


def by_language(text: str) -> tuple[str, str]:
    """(Chinese, English) of a text written "中文 English" the way plans, orders and estates
    are often named in one field ("水箱清洗消毒 Tank cleaning", "电梯保养 / lift maintenance").

    Words with a Chinese character are Chinese; a run of Latin words is English when it holds
    a lower-case word ("tank cleaning"), else it is a code or number that stays with the
    Chinese around it ("更换 PLC 模块", "3 号楼"). Either part is "" when the text has none;
    English taken out from between Chinese words leaves a "，" (and English runs join with
    ", "), so "水箱清洗 tank cleaning 半年保养 / semi-annual maintenance" is "水箱清洗，半年保养"
    and "tank cleaning, semi-annual maintenance"."""
    runs: list[tuple[bool, list[str]]] = []  # (Chinese?, words), alternating
    for word in text.split():
        chinese = bool(_CJK.search(word))
        if runs and runs[-1][0] == chinese:
            runs[-1][1].append(word)
        else:
            runs.append((chinese, [word]))
    zh: list[str] = []
    en: list[str] = []
    cut = False  # English was taken out after the last Chinese kept
    for chinese, words in runs:
        joined = " ".join(words)
        if not chinese and re.search(r"[a-z]{2}", joined):
            english = joined.strip(_EDGES)
            if english:
                en.append(english)
            cut = bool(zh)
        elif chinese or joined.strip(_EDGES):
            zh.append(("，" if cut else " ") + joined if zh else joined)
            cut = False
    return "".join(zh).strip(_EDGES), ", ".join(en)


def site_parts(name: str, name_en: str | None = None) -> tuple[str, str]:
    """(Chinese, English) of an estate's name: its own English name when it has one, else
    the English written into ``name`` ("绿园 Green Garden"); either "" when there is none."""
    zh, en = by_language(name)
    return zh, (name_en or "").strip() or en


def site_name(name: str, name_en: str | None, lang: Language) -> str:
    """The estate's name as a reader of ``lang`` is shown it (a page's brand, a list): the
    part in that language, else the whole name, since an estate is never left unnamed and a
    name in the other language is still its name ("绿园" on an English page)."""
    zh, en = site_parts(name, name_en)
    return (en if lang == "en" else zh) or name.strip() or (name_en or "").strip()
