"""Errors of the maintenance package that are part of its contract.

MaintenanceError
 ├── IllegalTransitionError   a lifecycle step the order's status does not allow (HTTP 409)
 ├── NotFoundError            no such order, technician, shift, plan or part (HTTP 404)
 ├── ConflictError            the request clashes with the current state (HTTP 409)
 ├── InvalidRequestError      the request cannot be satisfied as given (HTTP 422)
 └── NotPermittedError        the actor may not do this to the order (HTTP 403)
      ├── NotYoursError       a technician, on an order not assigned to them
      └── NeedsPlannerError   a planner's decision, even on the technician's own order
"""

from __future__ import annotations


class MaintenanceError(Exception):
    pass


class IllegalTransitionError(MaintenanceError):
    def __init__(self, current: str, wanted: str, allowed: tuple[str, ...]) -> None:
        self.current = current
        self.wanted = wanted
        self.allowed = allowed
        options = ", ".join(allowed) if allowed else "none (the order is finished)"
        super().__init__(f"cannot go from {current} to {wanted}; allowed from {current}: {options}")


class NotFoundError(MaintenanceError):
    pass


class ConflictError(MaintenanceError):
    pass


class InvalidRequestError(MaintenanceError):
    pass


class NotPermittedError(MaintenanceError):
    pass


class NotYoursError(NotPermittedError):
    pass


class NeedsPlannerError(NotPermittedError):
    pass
