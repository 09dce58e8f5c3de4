"""Notifications: routes from events to receivers, repeats, escalation, an outbox (Apprise)."""
