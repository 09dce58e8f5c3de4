"""Errors of the rules package that are part of its contract.

RulesFileError      a rules file refused as a whole; names the rule and the field
"""

from __future__ import annotations


class RulesFileError(ValueError):
    """A rules file that breaks SPEC section 2. The previous rules stay in force."""

    def __init__(self, message: str, rule: str | None = None, field: str | None = None) -> None:
        self.rule = rule
        self.field = field
        self.message = message
        where = []
        if rule:
            where.append(f"rule {rule!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
