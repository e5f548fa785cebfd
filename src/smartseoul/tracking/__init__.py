"""u-Seoul location safety: protected persons, guardians, consent, devices, positions and alarms."""
