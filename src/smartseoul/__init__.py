"""Smart Seoul: one open platform a city runs to keep its streets safe and serve its citizens."""

__version__ = "0.1.0"
