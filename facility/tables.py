"""Imports every module that declares tables, so that ``Base.metadata`` is complete."""

from facility import events
from ingest import sql as ingest_sql
from rules import sql as rules_sql

__all__ = ["events", "ingest_sql", "rules_sql"]
