"""The shared kernel: time, durations, the database base and sessions, the event log,
the MQTT endpoint and the reading types. It imports nothing of the stages."""
