"""GoldenTime: control-room platform for a city's integrated CCTV and safety operations centre."""

__version__ = "0.1.0"
