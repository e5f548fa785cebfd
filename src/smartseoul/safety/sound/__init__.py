"""Danger-sound detection: audio ingest with an energy gate, the shipped classifier, detection events."""
