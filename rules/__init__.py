"""The rule engine: readings become alarms (evaluation, alarm state, silences, inhibition)."""
