"""Free public WiFi: access points, health from status reports, outage alarms, coverage, RADIUS usage."""
