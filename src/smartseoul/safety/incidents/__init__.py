"""Incident desk, emergency bells and hand-over to agencies."""
