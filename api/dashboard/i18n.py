"""The dashboard's two languages: one translation table per language, and which one a page uses.

The tables are ``locales/zh.json`` and ``locales/en.json`` plus one pair per area of the console
(``locales/<area>.zh.json``, ``locales/<area>.en.json``), merged; the same keys in both languages
(a test checks that every key a template or script uses is in both, and that no key is given
twice). The language of a page is, in order:

1. the visitor's own choice, remembered in the ``facility_lang`` cookie;
2. Chinese when the sites the page shows are all zh-CN sites (the ``sites`` table's
   ``locale``): a control room of Chinese estates reads Chinese whatever the browser says;
3. the browser's ``Accept-Language`` (the first of zh or en it prefers); English otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Final, Literal

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")
LANG_COOKIE: Final = "facility_lang"
HTML_LANG: Final[dict[Lang, str]] = {"zh": "zh-CN", "en": "en"}


@cache
def table(lang: Lang) -> dict[str, str]:
    """Every UI string of one language, by key: the main table and each area's, merged."""
    folder = resources.files("facility_dispatch.api.dashboard").joinpath("locales")
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name == f"{lang}.json" or entry.name.endswith(f".{lang}.json")
    )
    strings: dict[str, str] = {}
    for name in names:
        part: dict[str, str] = json.loads(folder.joinpath(name).read_text("utf-8"))
        twice = strings.keys() & part.keys()
        if twice:
            raise ValueError(f"locales/{name} gives keys given elsewhere: {sorted(twice)}")
        strings.update(part)
    return strings


class Translator:
    """``t("key")`` in templates; ``t("key", n=3)`` fills ``{n}``. A missing key shows itself,
    so a gap is visible on the page instead of breaking it. English counts: ``key.one`` is the
    string for ``n == 1`` where the table gives one ("1 order", not "1 orders")."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._strings = table(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self._strings.get(key, key)
        if values.get("n") == 1:
            text = self._strings.get(f"{key}.one", text)
        return text.format(**values) if values else text

    def get(self, key: str) -> str | None:
        """The string, or None: for optional labels such as a metric's name."""
        return self._strings.get(key)

    def prefixed(self, *prefixes: str) -> dict[str, str]:
        """The strings under these prefixes (the scripts' share of the table)."""
        return {k: v for k, v in self._strings.items() if k.startswith(prefixes)}


def parse_lang(value: str | None) -> Lang | None:
    return value if value in LANGS else None


def from_accept_language(header: str | None) -> Lang | None:
    """The first of zh or en in ``Accept-Language``, by quality then order."""
    if not header:
        return None
    ranked: list[tuple[float, int, Lang]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def choose(cookie: str | None, site_locales: Iterable[str], accept_language: str | None) -> Lang:
    """The page's language (see the module docstring for the order)."""
    chosen = parse_lang(cookie)
    if chosen is not None:
        return chosen
    locales = list(site_locales)
    if locales and all(locale.lower().startswith("zh") for locale in locales):
        return "zh"
    return from_accept_language(accept_language) or "en"
