"""The video wall: live tiles, camera groups and tours, camera health."""
