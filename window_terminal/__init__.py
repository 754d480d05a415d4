"""The window_terminal surface (not built yet: see README, Status)."""
