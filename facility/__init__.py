"""Facility Dispatch: the composition root (settings, command line, wiring).

The domain lives in the sibling packages: ``ingest`` (MQTT in, readings stored), ``rules``
(readings become alarms), ``maintenance`` (alarms become work orders for people), ``api``
(HTTP and the dashboard) and ``simulators`` (devices for tests, demos and load).
"""

__version__ = "0.1.0"
