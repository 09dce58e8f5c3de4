"""Imports every module that declares tables, so that ``Base.metadata`` is complete."""

from api import logins, tokens
from facility import events
from ingest import sql as ingest_sql
from maintenance import sql as maintenance_sql
from rules import sql as rules_sql

__all__ = ["events", "ingest_sql", "logins", "maintenance_sql", "rules_sql", "tokens"]
