"""Imports every module that declares tables, so that ``Base.metadata`` is complete."""

from ingest import sql as ingest_sql

__all__ = ["ingest_sql"]
