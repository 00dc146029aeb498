"""View models: everything the console decides without a screen (tested without a window)."""
