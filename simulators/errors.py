"""Errors the simulators raise where a person must change something (a flag, a scenario file).

SimulatorError
 ├── UnknownFaultError        a fault name outside SPEC section 3
 ├── FaultTargetError    an asset that does not exist, or that the fault does not concern
 ├── FaultOptionError    an option the fault does not take, or a bad value for one
 ├── ScenarioError       a scenario file refused: names the file, the step and the field
 ├── DatasetError        a replay dataset missing or unreadable
 └── BrokerUnavailableError   nothing answered at the broker address in time
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error the simulators raise on purpose."""


class UnknownFaultError(SimulatorError, ValueError):
    """A fault name that is not one of SPEC section 3's."""


class FaultTargetError(SimulatorError, ValueError):
    """An injection aimed at an asset that does not exist or that the fault does not concern."""


class FaultOptionError(SimulatorError, ValueError):
    """A fault option that is unknown or has a bad value; ``option`` names it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


class ScenarioError(SimulatorError, ValueError):
    """A scenario file or scenario step that cannot be played."""


class DatasetError(SimulatorError, ValueError):
    """A replay dataset that is missing, unknown or unreadable."""


class BrokerUnavailableError(SimulatorError, ConnectionError):
    """No connection to the broker could be made in time."""
