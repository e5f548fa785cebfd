"""Tables of the complaints domain."""

from __future__ import annotations

from smartseoul.core.db import Base  # noqa: F401  (the domain's tables derive from it)
