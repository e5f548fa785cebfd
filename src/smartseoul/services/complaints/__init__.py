"""Citizen complaints: Open311 GeoReport v2, routing to district and department, SLA, tracked deliveries."""
