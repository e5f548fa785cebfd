"""Camera placement planner: maximal covering and equity plans solved with HiGHS."""
