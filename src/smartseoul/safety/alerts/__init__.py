"""Public alerts (CAP 1.2) and their delivery to phones and screens."""
