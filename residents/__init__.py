"""Residents: requests by QR code, tracking, feedback, and the dispatcher's quality loop."""
