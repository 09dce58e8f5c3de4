"""``python -m simulators``: the ``facility simulate`` command on its own."""

from simulators.cli import simulate

simulate()
