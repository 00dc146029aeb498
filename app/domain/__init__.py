"""GoldenTime."""
