"""The built-in scenario files (package data), loaded with ``simulators.scenario.load_scenario``."""
