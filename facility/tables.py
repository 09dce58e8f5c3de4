"""Imports every module that declares tables, so that ``Base.metadata`` is complete."""

from facility_dispatch.api import logins, tokens
from facility_dispatch.ingest import sql as ingest_sql
from facility_dispatch.kernel import events
from facility_dispatch.maintenance import contractor_sql, roster_sql, statutory
from facility_dispatch.maintenance import sql as maintenance_sql
from facility_dispatch.notify import sql as notify_sql
from facility_dispatch.residents import sql as residents_sql
from facility_dispatch.rules import sql as rules_sql

__all__ = [
    "contractor_sql",
    "events",
    "ingest_sql",
    "logins",
    "maintenance_sql",
    "notify_sql",
    "residents_sql",
    "roster_sql",
    "rules_sql",
    "statutory",
    "tokens",
]
