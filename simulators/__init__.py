"""Device simulators for tests, demos and load (issue 6): lifts, water, power and CCTV.

The parts, from the pure core outwards:

* one model per kind (``elevator``, ``water``, ``power``, ``cctv``): seeded physics stepped by
  an explicit clock;
* ``faults``: the fault catalogue of SPEC section 3 and each fault's options;
* ``estate``: :class:`Estate`, the devices of one or more sites on one clock, with fault
  injection and the knock-on effects across a site (a mains failure stops lifts and pumps);
* ``scenario``: scenario files (SPEC section 3) and their player (one-shot or looping);
* ``runner`` / ``mqtt``: real-time publishing, one connection and last will per device;
* ``fleet``: thousands of devices over a few connections for load;
* ``replay``: the public datasets in ``shared/datasets`` as devices;
* ``cli``: ``facility simulate``.

Typical use::

    estate = Estate([SiteLayout("estate-a"), SiteLayout("estate-b", elevators=4)], seed=1)
    estate.play(load_scenario("incident-tour"), repeat_every=timedelta(minutes=30))
    runner = Runner(estate, "mqtt://127.0.0.1:1883")
    runner.start()
    estate.inject("entrapment", "lift-1", site="estate-a", duration=timedelta(minutes=3))
    ...
    runner.stop()
"""

from facility_dispatch.simulators.errors import (
    BrokerUnavailableError,
    DatasetError,
    FaultOptionError,
    FaultTargetError,
    ScenarioError,
    SimulatorError,
    UnknownFaultError,
)
from facility_dispatch.simulators.estate import Estate, SiteLayout
from facility_dispatch.simulators.faults import FAULTS, Fault, Role
from facility_dispatch.simulators.fleet import Fleet, FleetReport
from facility_dispatch.simulators.replay import Replay, ReplaySeries, datasets_root, load_dataset
from facility_dispatch.simulators.runner import Runner, RunReport
from facility_dispatch.simulators.scenario import (
    Scenario,
    ScenarioPlayer,
    builtin_scenarios,
    load_scenario,
)
from facility_dispatch.simulators.telemetry import DeviceId, PresenceChange, Telemetry, Tick

__all__ = [
    "FAULTS",
    "BrokerUnavailableError",
    "DatasetError",
    "DeviceId",
    "Estate",
    "Fault",
    "FaultOptionError",
    "FaultTargetError",
    "Fleet",
    "FleetReport",
    "PresenceChange",
    "Replay",
    "ReplaySeries",
    "Role",
    "RunReport",
    "Runner",
    "Scenario",
    "ScenarioError",
    "ScenarioPlayer",
    "SimulatorError",
    "SiteLayout",
    "Telemetry",
    "Tick",
    "UnknownFaultError",
    "builtin_scenarios",
    "datasets_root",
    "load_dataset",
    "load_scenario",
]
