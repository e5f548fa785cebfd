"""Automated video monitoring: motion-gated detection, tracking, zone rules, scheduling to 100%."""
