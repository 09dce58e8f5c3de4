"""``python -m simulators``: the ``facility simulate`` command on its own."""

from facility_dispatch.simulators.cli import simulate

simulate()
