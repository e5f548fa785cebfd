"""Street safety: CCTV registry and planning, the video wall, emergency bells and the incident desk,
public alerts. Each sub-package is a domain of its own (its plugin, tables, router, events, tests)."""
