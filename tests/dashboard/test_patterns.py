"""Every ``pattern`` attribute of the console's forms is one Chromium applies.

Chromium compiles an input's ``pattern`` with the RegExp ``v`` flag, where a ``-`` left
unescaped at the end of a character class is a syntax error; a pattern that does not compile
is ignored without a word, so the field takes anything (``[a-z0-9_-]*`` did, on every site and
asset field). The check is the browser's own: each pattern must refuse a value outside it."""

from __future__ import annotations

import html
import re
from pathlib import Path

from playwright.sync_api import Browser

from tests.dashboard.test_browser import browser  # noqa: F401  (the shared Chromium fixture)

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
PATTERN = re.compile(r'\spattern="([^"]*)"')


def patterns() -> list[str]:
    found = set()
    for template in TEMPLATES.rglob("*.html"):
        found.update(html.unescape(p) for p in PATTERN.findall(template.read_text("utf-8")))
    return sorted(found)


def test_the_forms_patterns_compile_and_refuse_what_they_should(browser: Browser) -> None:  # noqa: F811
    found = patterns()
    assert len(found) >= 5, found  # the site, asset, skill, metric and window fields at least
    page = browser.new_page()
    try:
        page.set_content("<form></form>")
        applied = page.evaluate(
            """(patterns) => patterns.map((p) => {
                 const input = document.createElement('input');
                 input.pattern = p;
                 input.value = '@@ not this';
                 document.forms[0].append(input);
                 let compiles = true;
                 try { new RegExp('^(?:' + p + ')$', 'v'); } catch (e) { compiles = false; }
                 return [p, compiles, input.validity.patternMismatch];
               })""",
            found,
        )
    finally:
        page.close()
    broken = [p for p, compiles, mismatch in applied if not (compiles and mismatch)]
    assert not broken, f"patterns Chromium ignores: {broken}"
