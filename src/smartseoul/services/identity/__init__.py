"""Citizen accounts and accredited (X.509) certificate login and signing against the city's CA."""
