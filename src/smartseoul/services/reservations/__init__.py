"""Reservations of public facilities: slots, rules, waitlists, no double booking under any concurrency."""
