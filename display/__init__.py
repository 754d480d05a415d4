"""The display surface (not built yet: see README, Status)."""
