"""Tables of the cctv domain."""

from __future__ import annotations
