"""The contractors' register: create, edit, list, and the lookups dispatch and sign-off need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from facility_dispatch.kernel.db import Sessions
from facility_dispatch.maintenance.contractor_sql import ContractorRow, ContractorTechnicianRow
from facility_dispatch.maintenance.contractors import Contractor, ContractTechnician, validate
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError
from facility_dispatch.maintenance.sql import TechnicianRow


def contractor_of(row: ContractorRow, technicians: list[ContractTechnician]) -> Contractor:
    return Contractor(
        row.id,
        row.name,
        row.phone_24h,
        row.contract_start,
        row.contract_end,
        tuple(row.sites or ()),
        tuple(row.kinds or ()),
        row.response_minutes,
        row.receiver,
        row.active,
        tuple(technicians),
    )


class Contractors:
    """Maintenance companies under contract. A contractor is never deleted (orders name it):
    it is made inactive instead."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @staticmethod
    def _technicians(session: Session, contractor_id: int) -> list[ContractTechnician]:
        return [
            ContractTechnician(r.technician_id, r.licence)
            for r in session.scalars(
                select(ContractorTechnicianRow)
                .where(ContractorTechnicianRow.contractor_id == contractor_id)
                .order_by(ContractorTechnicianRow.technician_id)
            )
        ]

    @classmethod
    def view(cls, session: Session, row: ContractorRow) -> Contractor:
        return contractor_of(row, cls._technicians(session, row.id))

    @staticmethod
    def _put_technicians(
        session: Session, contractor_id: int, technicians: list[ContractTechnician]
    ) -> None:
        ids = [t.technician_id for t in technicians]
        known = set(session.scalars(select(TechnicianRow.id).where(TechnicianRow.id.in_(ids))))
        missing = [i for i in ids if i not in known]
        if missing:
            raise NotFoundError(f"technicians: no technician {', '.join(map(str, missing))}")
        session.execute(
            delete(ContractorTechnicianRow).where(
                ContractorTechnicianRow.contractor_id == contractor_id
            )
        )
        for tech in technicians:
            session.add(
                ContractorTechnicianRow(
                    contractor_id=contractor_id,
                    technician_id=tech.technician_id,
                    licence=tech.licence,
                )
            )

    def _name_taken(self, session: Session, name: str, other_than: int | None) -> None:
        stmt = select(ContractorRow.id).where(ContractorRow.name == name)
        if other_than is not None:
            stmt = stmt.where(ContractorRow.id != other_than)
        if session.scalar(stmt) is not None:
            raise ConflictError(f"name: a contractor named {name!r} exists")

    def create(self, now: datetime, by: str, **fields: Any) -> Contractor:
        checked = validate(fields)
        technicians = checked.pop("technicians")
        with self._sessions.begin() as session:
            self._name_taken(session, checked["name"], None)
            row = ContractorRow(created_at=now, created_by=by, updated_at=now, **checked)
            session.add(row)
            session.flush()
            self._put_technicians(session, row.id, technicians)
            session.flush()
            return self.view(session, row)

    def update(self, contractor_id: int, now: datetime, **fields: Any) -> Contractor:
        """Replace what is given; the rest stays (checked together with what stays)."""
        with self._sessions.begin() as session:
            row = session.get(ContractorRow, contractor_id)
            if row is None:
                raise NotFoundError(f"no contractor {contractor_id}")
            current = self.view(session, row)
            merged = {
                name: getattr(current, name)
                for name in (
                    "name",
                    "phone_24h",
                    "contract_start",
                    "contract_end",
                    "sites",
                    "kinds",
                    "response_minutes",
                    "receiver",
                    "active",
                    "technicians",
                )
            }
            merged.update(fields)
            checked = validate(merged)
            technicians = checked.pop("technicians")
            self._name_taken(session, checked["name"], row.id)
            for name, value in checked.items():
                setattr(row, name, value)
            row.updated_at = now
            if "technicians" in fields:
                self._put_technicians(session, row.id, technicians)
            session.flush()
            return self.view(session, row)

    def get(self, contractor_id: int) -> Contractor | None:
        with self._sessions() as session:
            row = session.get(ContractorRow, contractor_id)
            return self.view(session, row) if row else None

    def listing(
        self, site: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[Contractor], int]:
        with self._sessions() as session:
            rows = [self.view(session, r) for r in self.all_rows(session)]
        if site:
            rows = [c for c in rows if not c.sites or site in c.sites]
        return rows[offset : offset + limit], len(rows)

    @staticmethod
    def all_rows(session: Session) -> list[ContractorRow]:
        return list(session.scalars(select(ContractorRow).order_by(ContractorRow.id)))

    def in_session(self, session: Session) -> list[Contractor]:
        """Every contractor, read in the caller's transaction (dispatch decides with them)."""
        return [self.view(session, r) for r in self.all_rows(session)]

    @staticmethod
    def count(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(ContractorRow)) or 0)
