"""Tables of the videowall domain."""

from __future__ import annotations
