"""Platform core: settings, database, event bus, auth, audit ledger, geo and time helpers.

Nothing here knows about a domain; domains build on these pieces.
"""
