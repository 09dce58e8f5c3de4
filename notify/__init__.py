"""Notifications: routes from events to receivers, repeats and escalation, an outbox sent through Apprise."""
