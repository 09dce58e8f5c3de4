"""Imports every module that declares tables, so that ``Base.metadata`` is complete."""

from facility_dispatch.api import logins, tokens
from facility_dispatch.ingest import sql as ingest_sql
from facility_dispatch.kernel import events
from facility_dispatch.maintenance import sql as maintenance_sql
from facility_dispatch.rules import sql as rules_sql

__all__ = ["events", "ingest_sql", "logins", "maintenance_sql", "rules_sql", "tokens"]
